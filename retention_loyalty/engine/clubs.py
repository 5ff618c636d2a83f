"""Qualification of customers for club levels, on plain arrays.

A *ladder* is a list of levels with strictly increasing thresholds (level 0
the lowest). A customer qualifies for the highest level whose threshold their
value over the qualification window reaches. Moving up happens at once;
moving down only after a grace period: the first day a customer no longer
qualifies for their level starts the grace, and if they still do not qualify
when it ends they move down to the level they qualify for then (or leave).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

import numpy as np

NO_LEVEL = -1

# Transition codes, one per customer.
KEEP = 0
UPGRADE = 1  # enter a level, or move up: at once
START_GRACE = 2  # no longer qualifies for the held level: grace begins
END_GRACE = 3  # qualifies again during the grace: back to active
DOWNGRADE = 4  # grace is over: move down to the qualified level or leave


def window_start(today, kind, days=0):
    """First day of the qualification window that ends ``today``: the last
    ``days`` days (``kind`` "trailing") or the calendar year to date."""
    if kind == "calendar_year":
        return date(today.year, 1, 1)
    if kind != "trailing":
        raise ValueError(f"Unknown qualification window {kind!r}.")
    if days <= 0:
        raise ValueError("A qualification window must last at least one day.")
    return today - timedelta(days=days - 1)


def window_end(today, kind, days=0):
    """Last day by which purchases must be made to count towards a level that
    is judged at the end of the window: 31 December for calendar-year windows;
    for trailing windows every day is an end, so a purchase counts for
    ``days`` days from ``today``."""
    if kind == "calendar_year":
        return date(today.year, 12, 31)
    window_start(today, kind, days)
    return today + timedelta(days=days - 1)


def check_thresholds(thresholds):
    """Raise ValueError unless the thresholds are positive and strictly
    increasing from the lowest level up (levels must not overlap)."""
    values = list(thresholds)
    if any(value <= 0 for value in values):
        raise ValueError("Every level needs a threshold above zero.")
    if any(high <= low for low, high in pairwise(values)):
        raise ValueError("Each level must need more than the level below it.")


def qualified_levels(values, thresholds):
    """Index of the highest level each value reaches, NO_LEVEL for none."""
    check_thresholds(thresholds)
    values = np.asarray(values, dtype=float)
    return np.searchsorted(np.asarray(thresholds, dtype=float), values, side="right") - 1


def plan_transitions(held, qualified, in_grace, grace_over, allow_downgrade=True):
    """What to do with each customer.

    ``held``: level currently held (NO_LEVEL for none); ``qualified``: level
    qualified for now; ``in_grace``: the held membership is in its grace
    period; ``grace_over``: that grace has ended. With ``allow_downgrade``
    False (order confirmation) only upgrades and ends of grace happen."""
    held = np.asarray(held)
    qualified = np.asarray(qualified)
    in_grace = np.asarray(in_grace, dtype=bool)
    grace_over = np.asarray(grace_over, dtype=bool)
    plan = np.full(held.shape, KEEP, dtype=np.int8)
    plan[qualified > held] = UPGRADE
    plan[(qualified == held) & in_grace] = END_GRACE
    if allow_downgrade:
        below = (qualified < held) & (held != NO_LEVEL)
        plan[below & ~in_grace] = START_GRACE
        plan[below & in_grace & grace_over] = DOWNGRADE
    return plan


@dataclass(frozen=True)
class NextLevel:
    """What a customer needs for the level above theirs."""

    level: int
    missing: float


def next_level(value, thresholds):
    """The next level above ``value`` and how much is missing; None at the top."""
    level = int(qualified_levels([value], thresholds)[0])
    if level + 1 >= len(thresholds):
        return None
    return NextLevel(level + 1, float(thresholds[level + 1]) - float(value))
