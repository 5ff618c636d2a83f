"""Calendar arithmetic shared by the engine."""

import calendar
from datetime import date


def add_months(day, months):
    """``day`` moved by whole months, clamped to the end of shorter months
    (31 January + 1 month = 28 or 29 February)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))
