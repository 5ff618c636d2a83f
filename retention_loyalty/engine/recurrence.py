"""Recurrence of subscriptions: when each period starts, which periods are
due, and what a period is worth per month.

Period ``k`` (0 for the first) starts ``k x interval`` units after the start
date. Months and years are counted from the start date each time, so a
subscription started on the 31st orders on the last day of shorter months and
on the 31st again when the month has one (no drift to the 28th).
"""

from dataclasses import dataclass
from datetime import timedelta

from .dates import add_months

UNITS = ("day", "week", "month", "year")
AVERAGE_DAYS_PER_MONTH = 365.2425 / 12


@dataclass(frozen=True)
class Recurrence:
    interval: int
    unit: str

    def validate(self):
        """Raise ValueError with a readable message on a bad recurrence."""
        if self.unit not in UNITS:
            raise ValueError(f"Unknown recurrence unit {self.unit!r}.")
        if not isinstance(self.interval, int) or self.interval <= 0:
            raise ValueError("A subscription must recur at least every 1 " + self.unit + ".")

    def period_start(self, start, index):
        """First day of period ``index`` of a subscription starting on ``start``."""
        if index < 0:
            raise ValueError("Periods are numbered from 0.")
        steps = index * self.interval
        if self.unit == "day":
            return start + timedelta(days=steps)
        if self.unit == "week":
            return start + timedelta(weeks=steps)
        if self.unit == "month":
            return add_months(start, steps)
        return add_months(start, 12 * steps)

    def months_per_period(self):
        """Length of a period in months, for monthly recurring revenue."""
        if self.unit == "month":
            return float(self.interval)
        if self.unit == "year":
            return 12.0 * self.interval
        days = self.interval * (7 if self.unit == "week" else 1)
        return days / AVERAGE_DAYS_PER_MONTH

    def monthly_amount(self, amount_per_period):
        """Monthly recurring revenue of ``amount_per_period``."""
        return amount_per_period / self.months_per_period()

    def first_period_from(self, start, day):
        """Index of the first period that starts on or after ``day``."""
        if day <= start:
            return 0
        if self.unit in ("day", "week"):
            length = self.interval * (7 if self.unit == "week" else 1)
            index = -(-(day - start).days // length)
        else:
            months = self.interval * (12 if self.unit == "year" else 1)
            index = max((day.year - start.year) * 12 + day.month - start.month, 0) // months
        while self.period_start(start, index) < day:
            index += 1
        while index > 0 and self.period_start(start, index - 1) >= day:
            index -= 1
        return index


def due_periods(recurrence, start, next_index, today, end=None, max_periods=None):
    """Indices of the periods from ``next_index`` on that are due by
    ``today``: started on or before it, before ``end`` (inclusive) and
    within ``max_periods`` periods."""
    due = []
    index = next_index
    while True:
        if max_periods is not None and index >= max_periods:
            break
        day = recurrence.period_start(start, index)
        if day > today or (end is not None and day > end):
            break
        due.append(index)
        index += 1
    return due


def last_period_start(recurrence, start, end=None, max_periods=None):
    """First day of the last period of a fixed-term subscription; None when
    it runs until closed."""
    if max_periods is not None:
        last = recurrence.period_start(start, max_periods - 1)
        return last if end is None else min(last, _last_before(recurrence, start, end))
    if end is not None:
        return _last_before(recurrence, start, end)
    return None


def next_term(recurrence, start, end=None, max_periods=None, term_periods=None):
    """A fixed-term subscription renewed for another term: ``(first period
    of the new term, new end date or None, new number of periods or None,
    periods per term)``. A term is ``term_periods`` periods, the first term's
    length when not given. The end date and the number of periods, whichever
    the subscription has, move to the new term's last period."""
    last = last_period_start(recurrence, start, end, max_periods)
    if last is None:
        raise ValueError("A subscription without an end has no term to renew.")
    last_index = recurrence.first_period_from(start, last)
    term = term_periods or last_index + 1
    first_new = last_index + 1
    new_last = first_new + term - 1
    new_end = None
    if end is not None:
        new_end = recurrence.period_start(start, new_last + 1) - timedelta(days=1)
    new_max = new_last + 1 if max_periods is not None else None
    return first_new, new_end, new_max, term


def remaining_share(recurrence, start, index, day):
    """Share of period ``index`` still to run from ``day`` (included) to its
    end, in days: 0 when ``day`` is not in that period."""
    first = recurrence.period_start(start, index)
    following = recurrence.period_start(start, index + 1)
    if not first <= day < following:
        return 0.0
    return (following - day).days / (following - first).days


def _last_before(recurrence, start, end):
    index = recurrence.first_period_from(start, end + timedelta(days=1))
    return recurrence.period_start(start, max(index - 1, 0))


def check_dates(start, end=None, max_periods=None):
    """Raise ValueError when the term makes no sense."""
    if end is not None and end < start:
        raise ValueError("A subscription cannot end before it starts.")
    if max_periods is not None and max_periods <= 0:
        raise ValueError("A fixed number of periods must be at least 1.")
