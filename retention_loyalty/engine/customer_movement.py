"""How the customer base moves from one period to the next, on plain dates.

Definitions (the dashboard's, one place for all of them):

- A customer is **active** at a day when they bought within the
  ``active_days`` days up to and including it.
- Over a period (start, end], a customer is **new** when their first purchase
  falls in it; **retained** when active at the start and at the end;
  **reactivated** when they had bought before, were not active at the start
  and are active at the end; **churned** when active at the start and not at
  the end.
- A **cohort** is the customers whose first purchase fell in one month; its
  retention in month k is the share of them who bought in the k-th month after.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta


def is_active(purchase_days, day, active_days):
    """Bought within ``active_days`` days up to and including ``day``."""
    since = day - timedelta(days=active_days - 1)
    return any(since <= purchase <= day for purchase in purchase_days)


@dataclass(frozen=True)
class Movement:
    new: int = 0
    retained: int = 0
    reactivated: int = 0
    churned: int = 0
    active_end: int = 0


def classify(purchase_days, start, end, active_days):
    """The labels of one customer over the period (start, end]."""
    if active_days <= 0:
        raise ValueError("A customer is active for at least one day after a purchase.")
    if end <= start:
        raise ValueError("A period ends after it starts.")
    days = sorted(purchase_days)
    labels = set()
    if not days or days[0] > end:
        return labels
    active_start = is_active(days, start, active_days)
    active_end = is_active(days, end, active_days)
    if start < days[0] <= end:
        labels.add("new")
    elif active_start and active_end:
        labels.add("retained")
    elif not active_start and active_end:
        labels.add("reactivated")
    if active_start and not active_end:
        labels.add("churned")
    if active_end:
        labels.add("active_end")
    return labels


def movement(purchases_by_customer, start, end, active_days):
    """Counts of new, retained, reactivated and churned customers and those
    active at the end, over the period (start, end]."""
    counts = Counter()
    for days in purchases_by_customer.values():
        counts.update(classify(days, start, end, active_days))
    return Movement(**{key: counts.get(key, 0) for key in Movement.__dataclass_fields__})


def month_index(day):
    return day.year * 12 + day.month - 1


def cohort_retention(purchases_by_customer):
    """{cohort month index: {months after: share of the cohort who bought}}."""
    sizes = Counter()
    buyers = Counter()
    for days in purchases_by_customer.values():
        if not days:
            continue
        first = month_index(min(days))
        sizes[first] += 1
        for offset in {month_index(day) - first for day in days}:
            if offset > 0:
                buyers[(first, offset)] += 1
    return {
        cohort: {
            offset: buyers[(cohort, offset)] / size
            for (start, offset) in sorted(buyers)
            if start == cohort
        }
        for cohort, size in sizes.items()
    }
