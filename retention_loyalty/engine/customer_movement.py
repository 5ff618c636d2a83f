"""How the customer base moves, month by month: the dashboard's definitions.

This module is the only place that decides what the retention figures mean;
the Odoo layer feeds it purchases and stores what it returns. Days are plain
dates, amounts are in one currency, a *purchase day* is a day whose net amount
is positive (refund-only days count for revenue, not as purchases).

- **Active** on a day: bought within the ``active_days`` days up to and
  including it.
- **New** in a month: the customer's first purchase day falls in it.
- **Retained** in a month: active at the end of the month before and at the
  end of this one.
- **Reactivated** on a purchase day preceded by at least ``reactivation_days``
  days without a purchase.
- **Churned** on the day ``churn_days`` days after a purchase when no purchase
  followed in between (and that day has come). *Revenue lost* is what the
  customer bought in the ``active_days`` days up to that last purchase.
- **Repeat buyer** in a month: bought in it and had bought before it; the
  repeat purchase rate is the share of a month's buyers who are repeat buyers.
- **Cohort**: the customers whose first purchase fell in one month; their
  retention in a later month is the share of them who bought in it.
- A month belongs to the salesperson of the customer's latest order up to the
  end of that month.
"""

import bisect
import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from .dates import add_months


@dataclass(frozen=True)
class MovementSettings:
    active_days: int = 365
    churn_days: int = 365
    reactivation_days: int = 365

    def validate(self):
        if min(self.active_days, self.churn_days, self.reactivation_days) < 1:
            raise ValueError("The active, churn and reactivation periods are at least one day.")
        if self.churn_days < self.active_days:
            raise ValueError(
                "A customer cannot be churned while still active: the churn period must "
                "be at least as long as the active period."
            )


@dataclass(frozen=True)
class CustomerMonth:
    """One customer in one month, when anything happened or they were active."""

    month: date
    cohort_month: date | None
    month_offset: int | None
    user_id: int | None
    revenue: float
    order_count: int
    bought: bool
    active: bool
    new: bool
    retained: bool
    reactivated: bool
    churned: bool
    repeat_buyer: bool
    revenue_lost: float


def month_start(day):
    return date(day.year, day.month, 1)


def month_index(day):
    return day.year * 12 + day.month - 1


def _month_end(month):
    return add_months(month, 1) - timedelta(days=1)


def customer_months(orders, as_of, settings):
    """The months of one customer up to ``as_of``.

    ``orders`` are (day, amount, salesperson id or None) in date order; orders
    after ``as_of`` are ignored."""
    by_day = {}
    for day, amount, user_id in orders:
        if day > as_of:
            continue
        total, count, user = by_day.get(day, (0.0, 0, None))
        by_day[day] = (total + amount, count + 1, user_id or user)
    if not by_day:
        return []
    days = sorted(by_day)
    purchase_days = [day for day in days if by_day[day][0] > 0]
    amounts = [by_day[day][0] for day in days]
    first = purchase_days[0] if purchase_days else None
    cohort_month = month_start(first) if first else None

    reactivations = {
        current
        for previous, current in itertools.pairwise(purchase_days)
        if (current - previous).days - 1 >= settings.reactivation_days
    }
    churns = {}  # churn day -> revenue lost
    for position, day in enumerate(purchase_days):
        churn_day = day + timedelta(days=settings.churn_days)
        following = purchase_days[position + 1] if position + 1 < len(purchase_days) else None
        if churn_day <= as_of and (following is None or following > churn_day):
            since = day - timedelta(days=settings.active_days - 1)
            low, high = bisect.bisect_left(days, since), bisect.bisect_right(days, day)
            churns[churn_day] = max(sum(amounts[low:high]), 0.0)

    months = {month_start(day) for day in days}
    months.update(month_start(day) for day in churns)
    last_month = month_start(as_of)
    for day in purchase_days:
        month = month_start(day)
        active_until = min(day + timedelta(days=settings.active_days - 1), as_of)
        while month <= active_until:
            months.add(month)
            month = add_months(month, 1)
    months = sorted(month for month in months if month <= last_month)

    def active_on(day):
        position = bisect.bisect_right(purchase_days, day)
        return position > 0 and (day - purchase_days[position - 1]).days < settings.active_days

    rows = []
    for month in months:
        end = min(_month_end(month), as_of)
        low, high = bisect.bisect_left(days, month), bisect.bisect_right(days, end)
        month_days = days[low:high]
        bought_days = [day for day in month_days if by_day[day][0] > 0]
        latest = bisect.bisect_right(days, end)
        user_id = next(
            (by_day[days[i]][2] for i in range(latest - 1, -1, -1) if by_day[days[i]][2]),
            None,
        )
        month_churns = [lost for day, lost in churns.items() if month <= day <= end]
        active = active_on(end)
        rows.append(
            CustomerMonth(
                month=month,
                cohort_month=cohort_month,
                month_offset=(month_index(month) - month_index(cohort_month))
                if cohort_month
                else None,
                user_id=user_id,
                revenue=sum(by_day[day][0] for day in month_days),
                order_count=sum(by_day[day][1] for day in month_days),
                bought=bool(bought_days),
                active=active,
                new=first is not None and month <= first <= end,
                retained=active and active_on(month - timedelta(days=1)),
                reactivated=any(day in reactivations for day in bought_days),
                churned=bool(month_churns),
                repeat_buyer=bool(bought_days) and first < month,
                revenue_lost=sum(month_churns),
            )
        )
    return rows


def cohort_sizes(rows_by_customer):
    """{first purchase month: number of customers}."""
    sizes = defaultdict(int)
    for rows in rows_by_customer.values():
        for row in rows:
            if row.new:
                sizes[row.month] += 1
    return dict(sizes)


def cohort_share(row, sizes):
    """The customer's part, in percent, of their cohort's retention in the
    row's month: 100 / cohort size when they bought, else nothing. Summed over
    a cohort and month, it is the share of the cohort who bought then."""
    if not row.bought or row.cohort_month is None:
        return None
    return 100.0 / sizes[row.cohort_month]


def repeat_rate(row):
    """100 for a repeat buyer, 0 for a first-time buyer, nothing for a customer
    who did not buy in the month: its average is the repeat purchase rate."""
    if not row.bought:
        return None
    return 100.0 if row.repeat_buyer else 0.0


def period_months(start, months):
    """The first days of the ``months`` months from ``start``."""
    first = month_start(start)
    return [add_months(first, offset) for offset in range(months)]
