"""Rules of retention playbooks, on plain values: who falls in the control
group, when a customer may be contacted again, and what a playbook achieved.

The control group is drawn by hashing (playbook, customer): the same customer
stays in or out of a playbook's control group across runs and restarts, and
about ``share`` of the customers fall in it.
"""

import calendar
import hashlib
from dataclasses import dataclass
from datetime import timedelta

# A daily trigger missed while the cron was down is caught up at most this
# many days late (a birthday greeting a month late does more harm than good).
CATCH_UP_DAYS = 7


def in_control_group(playbook_id, partner_id, share_percent):
    """True when the customer belongs to the playbook's control group."""
    if share_percent <= 0:
        return False
    digest = hashlib.sha256(f"{playbook_id}:{partner_id}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    return draw < share_percent / 100.0


def cooled_down(last_run, today, cooldown_days):
    """May the customer be contacted again by the playbook today?"""
    return last_run is None or today - last_run >= timedelta(days=cooldown_days)


def is_overdue(days_since_last, usual_gap, factor=None, days=None):
    """Overdue against the customer's own rhythm (``factor`` x usual gap) or
    an absolute number of ``days``; either rule, when set, is enough."""
    if days_since_last is None:
        return False
    if factor and usual_gap and days_since_last > factor * usual_gap:
        return True
    return bool(days) and days_since_last > days


def order_matches(order_number, mode, nth=None):
    """Does the customer's ``order_number``-th order (1 for the first)
    trigger a playbook of ``mode`` (every, first, nth)?"""
    if mode == "every":
        return True
    if mode == "first":
        return order_number == 1
    return nth is not None and order_number == nth


def catch_up_window(last_evaluated, today, max_days=CATCH_UP_DAYS):
    """The days ``(first, last)`` a daily trigger covers today: those after
    its last evaluation up to today, at most ``max_days`` of them; None when
    today was already covered."""
    first = today
    if last_evaluated:  # None or False (never evaluated)
        first = max(last_evaluated + timedelta(days=1), today - timedelta(days=max_days - 1))
    return (first, today) if first <= today else None


def recurring_between(dates, first, last):
    """``{key: day}`` for the ``dates`` (per key) that recur on a day between
    ``first`` and ``last`` included: same month and day, a later year. 29
    February recurs on 28 February in other years."""
    days = {}
    day = first
    while day <= last:
        days[(day.month, day.day)] = day
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            days[(2, 29)] = day
        day += timedelta(days=1)
    result = {}
    for key, when in dates.items():
        day = days.get((when.month, when.day))
        if day is not None and when.year < day.year:
            result[key] = day
    return result


@dataclass(frozen=True)
class Effect:
    """What a playbook achieved: reorder rates and revenue per customer of
    those reached and of the control group, and the difference (uplift)."""

    reached: int
    control: int
    reached_reordered: int
    control_reordered: int
    reached_revenue: float
    control_revenue: float

    @staticmethod
    def _rate(part, whole):
        return part / whole if whole else None

    @property
    def reached_rate(self):
        return self._rate(self.reached_reordered, self.reached)

    @property
    def control_rate(self):
        return self._rate(self.control_reordered, self.control)

    @property
    def rate_uplift(self):
        if self.reached_rate is None or self.control_rate is None:
            return None
        return self.reached_rate - self.control_rate

    @property
    def revenue_uplift(self):
        """Extra revenue per reached customer compared with the control group."""
        if not self.reached or not self.control:
            return None
        return self.reached_revenue / self.reached - self.control_revenue / self.control
