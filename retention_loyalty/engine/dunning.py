"""Dunning: when the retries of a failed subscription payment fall."""

from datetime import timedelta
from itertools import pairwise


def parse_retry_days(text):
    """The retry schedule written as "1,3,7" (days after the first failure):
    a list of strictly increasing positive integers. Raises ValueError with
    a readable message on anything else; an empty text means no retry."""
    text = (text or "").strip()
    if not text:
        return []
    days = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) <= 0:
            raise ValueError(f"{part!r} is not a positive number of days")
        days.append(int(part))
    if any(later <= earlier for earlier, later in pairwise(days)):
        raise ValueError("the days must increase (e.g. 1,3,7)")
    return days


def next_retry(first_failure, retries_done, retry_days, today=None):
    """The day of the next retry after ``retries_done`` failed retries of a
    payment that first failed on ``first_failure``; None once the schedule
    is exhausted. A day already past (the retries ran late) becomes the day
    after ``today``: a payment is never retried twice in one day."""
    if retries_done >= len(retry_days):
        return None
    day = first_failure + timedelta(days=retry_days[retries_done])
    if today is not None:
        day = max(day, today + timedelta(days=1))
    return day
