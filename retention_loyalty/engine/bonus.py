"""Bonus points for more than purchases, on plain values: which period a
bonus belongs to (a customer gets each kind of bonus once per period), which
birthdays fall in the days a daily run covers, and when a profile is complete.
"""

import calendar
from datetime import timedelta

PERIODS = ("year", "month", "once")


def period_key(day, period):
    """The key of the period ``day`` falls in: "2026" per calendar year,
    "2026-06" per calendar month, "once" when a bonus is given only once."""
    if period == "year":
        return f"{day.year:04d}"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "once":
        return "once"
    raise ValueError(f"Unknown bonus period {period!r}")


def birthdays_between(first, last):
    """``{(month, day): date}``: the birthday (month, day) pairs celebrated
    on a day between ``first`` and ``last`` included, with that day. People
    born on 29 February celebrate on 28 February in other years."""
    days = {}
    day = first
    while day <= last:
        days[(day.month, day.day)] = day
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            days[(2, 29)] = day
        day += timedelta(days=1)
    return days


def is_profile_complete(birthday, preference_count, marketing_consent):
    """A profile is complete when the customer told their birthday, at least
    one preference and answered the marketing consent question (either way:
    a bonus for saying yes only would buy the consent, which then is not
    freely given)."""
    return bool(birthday) and preference_count > 0 and marketing_consent in ("yes", "no")
