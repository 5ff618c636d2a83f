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
- A month belongs to the salesperson of the customer's latest purchase up to
  the end of that month; a reactivation to the salesperson of the reactivating
  purchase, a churn to the salesperson of the last purchase (a purchase day's
  salesperson: that of its last order with one).
"""

import bisect
import functools
import itertools
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
    reactivated_user_id: int | None = None
    churned_user_id: int | None = None


def month_start(day):
    return date(day.year, day.month, 1)


def month_index(day):
    return day.year * 12 + day.month - 1


@functools.lru_cache(maxsize=4096)
def _month_bounds(index):
    """First and last day of the month of ``month_index`` ``index``."""
    first = date(index // 12, index % 12 + 1, 1)
    return first, add_months(first, 1) - timedelta(days=1)


def _purchase_days(orders, as_of):
    """{day: (net amount, order count, salesperson of the day's last order
    that has one)} up to ``as_of``."""
    by_day = {}
    for day, amount, user_id in orders:
        if day > as_of:
            continue
        total, count, user = by_day.get(day, (0.0, 0, None))
        by_day[day] = (total + amount, count + 1, user_id or user)
    return by_day


def customer_months(orders, as_of, settings):
    """The months of one customer up to ``as_of``.

    ``orders`` are (day, amount, salesperson id or None) in date order (orders
    of one day in the order they were made); orders after ``as_of`` are
    ignored."""
    by_day = _purchase_days(orders, as_of)
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
    churns = {}  # churn day -> (revenue lost, salesperson of the last purchase)
    for position, day in enumerate(purchase_days):
        churn_day = day + timedelta(days=settings.churn_days)
        following = purchase_days[position + 1] if position + 1 < len(purchase_days) else None
        if churn_day <= as_of and (following is None or following > churn_day):
            since = day - timedelta(days=settings.active_days - 1)
            low, high = bisect.bisect_left(days, since), bisect.bisect_right(days, day)
            churns[churn_day] = (max(sum(amounts[low:high]), 0.0), by_day[day][2])

    # Months as indices (year * 12 + month - 1): a purchase keeps the customer
    # active, and so in the dashboard, for every month its active period touches.
    months = {month_index(day) for day in days}
    months.update(month_index(day) for day in churns)
    for day in purchase_days:
        active_until = min(day + timedelta(days=settings.active_days - 1), as_of)
        months.update(range(month_index(day), month_index(active_until) + 1))
    last_month = month_index(as_of)
    months = [_month_bounds(index) for index in sorted(months) if index <= last_month]

    # The salesperson of the latest purchase up to each day.
    latest_user = []
    for day in days:
        if by_day[day][0] > 0:
            latest_user.append(by_day[day][2])
        else:
            latest_user.append(latest_user[-1] if latest_user else None)

    def active_on(day):
        position = bisect.bisect_right(purchase_days, day)
        return position > 0 and (day - purchase_days[position - 1]).days < settings.active_days

    rows = []
    for month, month_end in months:
        end = min(month_end, as_of)
        low, high = bisect.bisect_left(days, month), bisect.bisect_right(days, end)
        month_days = days[low:high]
        bought_days = [day for day in month_days if by_day[day][0] > 0]
        user_id = latest_user[high - 1] if high else None
        month_churns = [churn for day, churn in sorted(churns.items()) if month <= day <= end]
        reactivating = [day for day in bought_days if day in reactivations]
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
                reactivated=bool(reactivating),
                churned=bool(month_churns),
                repeat_buyer=bool(bought_days) and first < month,
                revenue_lost=sum(lost for lost, _user in month_churns),
                reactivated_user_id=by_day[reactivating[0]][2] if reactivating else None,
                churned_user_id=month_churns[-1][1] if month_churns else None,
            )
        )
    return rows


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
