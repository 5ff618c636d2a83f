"""Recurrence of subscriptions: when each period starts, which periods are
due, and what a period is worth per month.

Period ``k`` (0 for the first) starts ``k x interval`` units after the start
date. Months and years are counted from the start date each time, so a
subscription started on the 31st orders on the last day of shorter months and
on the 31st again when the month has one (no drift to the 28th).
"""

from dataclasses import dataclass
from datetime import date, timedelta

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


# Units a period length is counted in: months (months and years) or days
# (days and weeks). A change within one family keeps counting from the same
# day, so a subscription of the 31st stays on month ends after a change.
_UNIT_SIZE = {"day": ("day", 1), "week": ("day", 7), "month": ("month", 1), "year": ("month", 12)}


def _advance(day, family, count):
    return add_months(day, count) if family == "month" else day + timedelta(days=count)


@dataclass(frozen=True)
class Segment:
    """Periods from ``first`` on under ``recurrence``: period ``k`` starts
    ``lead + (k - first) x step`` units (months or days) after ``origin``."""

    first: int
    origin: date
    lead: int
    recurrence: Recurrence

    @property
    def family(self):
        return _UNIT_SIZE[self.recurrence.unit][0]

    @property
    def step(self):
        return _UNIT_SIZE[self.recurrence.unit][1] * self.recurrence.interval

    def period_start(self, index):
        return _advance(self.origin, self.family, self.lead + (index - self.first) * self.step)

    def first_period_from(self, day):
        """Index (``first`` or later) of the first period that starts on or after ``day``."""
        if self.family == "month":
            elapsed = (day.year - self.origin.year) * 12 + day.month - self.origin.month
        else:
            elapsed = (day - self.origin).days
        index = self.first + max((elapsed - self.lead) // self.step, 0)
        while self.period_start(index) < day:
            index += 1
        while index > self.first and self.period_start(index - 1) >= day:
            index -= 1
        return index

    def as_dict(self):
        return {
            "first": self.first,
            "origin": self.origin.isoformat(),
            "lead": self.lead,
            "interval": self.recurrence.interval,
            "unit": self.recurrence.unit,
        }


@dataclass(frozen=True)
class Schedule:
    """A recurrence that changed over time: a segment per recurrence, the
    first from the start date. Period numbers run on across changes (the
    periods already ordered keep their numbers and dates); a change only
    moves the start of the periods from the one it takes effect in.

    It answers like a :class:`Recurrence` (``period_start(start, index)``,
    ``first_period_from(start, day)``, ``monthly_amount``), the monthly
    figures being those of the latest recurrence, so that the functions of
    this module work on either."""

    segments: tuple

    @classmethod
    def single(cls, recurrence, start):
        return cls((Segment(0, start, 0, recurrence),))

    @classmethod
    def from_dicts(cls, rows):
        return cls(
            tuple(
                Segment(
                    row["first"],
                    date.fromisoformat(row["origin"]),
                    row["lead"],
                    Recurrence(row["interval"], row["unit"]),
                )
                for row in rows
            )
        )

    def as_dicts(self):
        return [segment.as_dict() for segment in self.segments]

    @property
    def recurrence(self):
        """The latest recurrence: the one of the periods to come."""
        return self.segments[-1].recurrence

    @property
    def changed(self):
        return len(self.segments) > 1

    def validate(self):
        for segment in self.segments:
            segment.recurrence.validate()

    def months_per_period(self):
        return self.recurrence.months_per_period()

    def monthly_amount(self, amount_per_period):
        return self.recurrence.monthly_amount(amount_per_period)

    def _check_start(self, start):
        if start != self.segments[0].origin:
            raise ValueError("The schedule counts from another start date.")

    def _segment_of(self, index):
        return next(s for s in reversed(self.segments) if s.first <= index)

    def period_start(self, start, index):
        if index < 0:
            raise ValueError("Periods are numbered from 0.")
        self._check_start(start)
        return self._segment_of(index).period_start(index)

    def first_period_from(self, start, day):
        self._check_start(start)
        if day <= start:
            return 0
        position = max(
            i
            for i, segment in enumerate(self.segments)
            if segment.period_start(segment.first) < day
        )
        index = self.segments[position].first_period_from(day)
        if position + 1 < len(self.segments):
            index = min(index, self.segments[position + 1].first)
        return index

    def change(self, recurrence, first):
        """The schedule with ``recurrence`` from period ``first`` on. Periods
        before ``first`` keep their dates; period ``first`` starts when it
        did. A second change from the same period replaces the first one
        (back to the former recurrence, the schedule is as before)."""
        recurrence.validate()
        if first < 0:
            raise ValueError("Periods are numbered from 0.")
        kept = tuple(segment for segment in self.segments if segment.first < first)
        if not kept:
            start = self.segments[0].origin
            return Schedule((Segment(0, start, 0, recurrence),))
        ruling = kept[-1]
        if ruling.recurrence == recurrence:
            return Schedule(kept)
        if _UNIT_SIZE[recurrence.unit][0] == ruling.family:
            new = Segment(
                first, ruling.origin, ruling.lead + (first - ruling.first) * ruling.step, recurrence
            )
        else:
            new = Segment(first, ruling.period_start(first), 0, recurrence)
        return Schedule((*kept, new))


def parse_recurrences(text):
    """The recurrences of a list such as "1 month, 2 months, 1 year", in
    that order, without repeats. Raise ValueError on anything else."""
    names = {unit: unit for unit in UNITS} | {unit + "s": unit for unit in UNITS}
    found = []
    for item in (text or "").split(","):
        words = item.split()
        if not words:
            continue
        if len(words) != 2 or not words[0].isdigit() or words[1].lower() not in names:
            raise ValueError(
                f"{item.strip()!r} is not a recurrence: write a number and a unit "
                '(days, weeks, months or years), e.g. "1 month, 3 months, 1 year".'
            )
        recurrence = Recurrence(int(words[0]), names[words[1].lower()])
        recurrence.validate()
        if recurrence not in found:
            found.append(recurrence)
    return found


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
