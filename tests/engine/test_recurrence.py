from datetime import date

import pytest

from retention_loyalty.engine.recurrence import (
    Recurrence,
    Schedule,
    check_dates,
    due_periods,
    last_period_start,
    next_term,
    parse_recurrences,
    remaining_share,
)


@pytest.mark.parametrize(
    ("interval", "unit", "index", "expected"),
    [
        (1, "day", 3, date(2026, 1, 4)),
        (2, "week", 2, date(2026, 1, 29)),
        (1, "month", 1, date(2026, 2, 1)),
        (3, "month", 4, date(2027, 1, 1)),
        (1, "year", 2, date(2028, 1, 1)),
    ],
)
def test_period_starts_of_each_unit(interval, unit, index, expected):
    assert Recurrence(interval, unit).period_start(date(2026, 1, 1), index) == expected


def test_month_end_recurrences_do_not_drift():
    monthly = Recurrence(1, "month")
    starts = [monthly.period_start(date(2026, 1, 31), k) for k in range(4)]
    assert starts == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_leap_years():
    yearly = Recurrence(1, "year")
    assert yearly.period_start(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert yearly.period_start(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert Recurrence(1, "month").period_start(date(2028, 1, 30), 1) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("interval", "unit", "message"),
    [
        (0, "month", "at least every 1 month"),
        (-1, "week", "at least every 1 week"),
        (1.5, "week", "at least every 1 week"),
        (1, "fortnight", "Unknown recurrence unit 'fortnight'"),
    ],
)
def test_bad_recurrences_are_refused(interval, unit, message):
    with pytest.raises(ValueError, match=message):
        Recurrence(interval, unit).validate()


def test_dates_are_checked():
    with pytest.raises(ValueError, match="cannot end before it starts"):
        check_dates(date(2026, 2, 1), end=date(2026, 1, 1))
    with pytest.raises(ValueError, match="at least 1"):
        check_dates(date(2026, 2, 1), max_periods=0)
    check_dates(date(2026, 2, 1), end=date(2026, 2, 1), max_periods=1)


def test_due_periods_catch_up_and_respect_the_term():
    monthly = Recurrence(1, "month")
    start = date(2026, 1, 15)
    assert due_periods(monthly, start, 0, date(2026, 3, 14)) == [0, 1]
    assert due_periods(monthly, start, 0, date(2026, 3, 15)) == [0, 1, 2]
    assert due_periods(monthly, start, 2, date(2026, 3, 15)) == [2]
    assert due_periods(monthly, start, 0, date(2026, 6, 1), end=date(2026, 2, 20)) == [0, 1]
    assert due_periods(monthly, start, 0, date(2026, 6, 1), max_periods=3) == [0, 1, 2]
    assert due_periods(monthly, start, 3, date(2026, 6, 1), max_periods=3) == []


@pytest.mark.parametrize(
    ("interval", "unit", "day", "expected"),
    [
        (1, "month", date(2026, 1, 31), 0),
        (1, "month", date(2026, 2, 1), 1),
        (1, "month", date(2026, 2, 28), 1),
        (1, "month", date(2026, 3, 2), 2),
        (2, "week", date(2026, 1, 30), 2),
        (1, "year", date(2027, 1, 31), 1),
        (1, "year", date(2027, 2, 1), 2),
        (10, "day", date(2025, 12, 1), 0),
    ],
)
def test_first_period_from_a_day(interval, unit, day, expected):
    recurrence = Recurrence(interval, unit)
    start = date(2026, 1, 31) if unit in ("month", "year") else date(2026, 1, 2)
    index = recurrence.first_period_from(start, day)
    assert index == expected
    assert recurrence.period_start(start, index) >= day
    assert index == 0 or recurrence.period_start(start, index - 1) < day


def test_monthly_recurring_revenue():
    assert Recurrence(1, "month").monthly_amount(30.0) == 30.0
    assert Recurrence(3, "month").monthly_amount(90.0) == 30.0
    assert Recurrence(1, "year").monthly_amount(360.0) == 30.0
    assert Recurrence(1, "week").monthly_amount(7.0) == pytest.approx(30.436875)
    assert Recurrence(1, "day").monthly_amount(1.0) == pytest.approx(30.436875)


def test_last_period_of_a_fixed_term():
    monthly = Recurrence(1, "month")
    start = date(2026, 1, 31)
    assert last_period_start(monthly, start) is None
    assert last_period_start(monthly, start, max_periods=3) == date(2026, 3, 31)
    assert last_period_start(monthly, start, end=date(2026, 4, 29)) == date(2026, 3, 31)
    assert last_period_start(monthly, start, end=date(2026, 4, 30), max_periods=6) == date(
        2026, 4, 30
    )


def test_next_term_of_a_number_of_periods():
    monthly = Recurrence(1, "month")
    # 12 monthly orders from 15 Jan 2026: periods 0..11; the next term 12..23.
    assert next_term(monthly, date(2026, 1, 15), max_periods=12) == (12, None, 24, 12)
    # Renewed once (24 periods), a term stays the first term's 12 periods.
    assert next_term(monthly, date(2026, 1, 15), max_periods=24, term_periods=12) == (
        24,
        None,
        36,
        12,
    )


def test_next_term_of_an_end_date():
    # Quarterly from 1 Feb 2026 until 31 Jan 2027: 4 periods; the next term
    # ends the day before the 9th period would start (1 Feb 2028).
    quarterly = Recurrence(3, "month")
    assert next_term(quarterly, date(2026, 2, 1), end=date(2027, 1, 31)) == (
        4,
        date(2028, 1, 31),
        None,
        4,
    )
    # An end date in the middle of a period: that period (from 1 May) is the
    # term's last; the next term is periods 2 and 3, until 31 Jan 2027.
    assert next_term(quarterly, date(2026, 2, 1), end=date(2026, 6, 10)) == (
        2,
        date(2027, 1, 31),
        None,
        2,
    )


def test_next_term_needs_an_end():
    with pytest.raises(ValueError, match="no term to renew"):
        next_term(Recurrence(1, "week"), date(2026, 1, 1))


def test_remaining_share_of_a_period():
    monthly = Recurrence(1, "month")
    start = date(2026, 1, 1)
    # January has 31 days: from the 11th, 21 are left; on the 31st, one.
    assert remaining_share(monthly, start, 0, date(2026, 1, 11)) == 21 / 31
    assert remaining_share(monthly, start, 0, date(2026, 1, 31)) == 1 / 31
    assert remaining_share(monthly, start, 0, date(2026, 1, 1)) == 1.0
    # February 2028 (a leap year) has 29 days.
    assert remaining_share(monthly, start, 25, date(2028, 2, 15)) == 15 / 29
    # Outside the period: nothing.
    assert remaining_share(monthly, start, 0, date(2026, 2, 1)) == 0.0
    assert remaining_share(monthly, start, 1, date(2026, 1, 31)) == 0.0


# ---------------------------------------------------------------- changes of recurrence

MONTHLY = Recurrence(1, "month")
QUARTERLY = Recurrence(3, "month")


def _starts(schedule, start, count):
    return [schedule.period_start(start, k) for k in range(count)]


def test_a_schedule_without_change_answers_as_its_recurrence():
    start = date(2026, 1, 31)
    schedule = Schedule.single(MONTHLY, start)
    assert _starts(schedule, start, 14) == _starts(MONTHLY, start, 14)
    for day in (date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 28), date(2026, 3, 1)):
        assert schedule.first_period_from(start, day) == MONTHLY.first_period_from(start, day)
    assert not schedule.changed


def test_periods_before_the_change_keep_their_dates_and_numbers():
    start = date(2026, 1, 1)
    schedule = Schedule.single(MONTHLY, start).change(QUARTERLY, 3)
    assert _starts(schedule, start, 6) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2026, 4, 1),  # period 3 starts as before: the first of 3 months
        date(2026, 7, 1),
        date(2026, 10, 1),
    ]
    assert schedule.monthly_amount(30.0) == 10.0


def test_a_change_on_the_31st_stays_on_month_ends():
    start = date(2026, 1, 31)
    schedule = Schedule.single(MONTHLY, start).change(QUARTERLY, 1)
    assert _starts(schedule, start, 5) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 5, 31),
        date(2026, 8, 31),
        date(2026, 11, 30),
    ]
    # and back to monthly later on: still the 31st when the month has one
    back = schedule.change(MONTHLY, 3)
    assert _starts(back, start, 6)[3:] == [date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31)]


def test_first_period_from_across_changes():
    start = date(2026, 1, 31)
    schedule = Schedule.single(MONTHLY, start).change(QUARTERLY, 1)
    cases = {
        date(2026, 1, 31): 0,
        date(2026, 2, 1): 1,
        date(2026, 2, 28): 1,
        date(2026, 3, 1): 2,
        date(2026, 5, 31): 2,
        date(2026, 6, 1): 3,
        date(2026, 11, 30): 4,
    }
    for day, index in cases.items():
        assert schedule.first_period_from(start, day) == index, day


def test_a_change_on_the_last_day_of_a_period():
    # Ordered on 1 March (period 2); on 31 March, the period's last day, the
    # customer goes every 2 months: the order of 1 April (period 3, already
    # counted as one month) is the first of 2 months.
    start = date(2026, 1, 1)
    schedule = Schedule.single(MONTHLY, start)
    last_day = date(2026, 3, 31)
    next_period = schedule.first_period_from(start, last_day)
    assert next_period == 3
    changed = schedule.change(Recurrence(2, "month"), next_period)
    assert changed.period_start(start, 2) == date(2026, 3, 1)
    assert changed.period_start(start, 3) == date(2026, 4, 1)
    assert changed.period_start(start, 4) == date(2026, 6, 1)
    assert remaining_share(changed, start, 2, last_day) == pytest.approx(1 / 31)


def test_two_changes_in_one_period_the_second_replaces_the_first():
    start = date(2026, 1, 31)
    base = Schedule.single(MONTHLY, start)
    twice = base.change(QUARTERLY, 2).change(Recurrence(1, "year"), 2)
    assert len(twice.segments) == 2
    assert _starts(twice, start, 5) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2027, 3, 31),
        date(2028, 3, 31),
    ]
    # changed and changed back in the same period: as if nothing happened
    assert base.change(QUARTERLY, 2).change(MONTHLY, 2) == base


def test_a_change_across_unit_families_counts_from_the_period_start():
    start = date(2026, 1, 31)
    schedule = Schedule.single(MONTHLY, start).change(Recurrence(2, "week"), 1)
    assert _starts(schedule, start, 4) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 14),
        date(2026, 3, 28),
    ]
    assert schedule.first_period_from(start, date(2026, 3, 1)) == 2
    back = schedule.change(MONTHLY, 3)
    assert _starts(back, start, 5)[3:] == [date(2026, 3, 28), date(2026, 4, 28)]


def test_a_change_before_the_first_period_replaces_the_recurrence():
    start = date(2026, 1, 31)
    assert Schedule.single(MONTHLY, start).change(QUARTERLY, 0) == Schedule.single(QUARTERLY, start)


def test_due_periods_and_terms_follow_the_changed_schedule():
    start = date(2026, 1, 1)
    schedule = Schedule.single(MONTHLY, start).change(QUARTERLY, 2)
    assert due_periods(schedule, start, 2, date(2026, 9, 30)) == [2, 3, 4]
    assert last_period_start(schedule, start, max_periods=4) == date(2026, 6, 1)
    assert next_term(schedule, start, max_periods=4) == (4, None, 8, 4)


def test_a_schedule_survives_its_storage():
    start = date(2026, 1, 31)
    schedule = Schedule.single(MONTHLY, start).change(QUARTERLY, 1).change(MONTHLY, 3)
    assert Schedule.from_dicts(schedule.as_dicts()) == schedule
    with pytest.raises(ValueError, match="another start date"):
        schedule.period_start(date(2026, 1, 1), 1)


def test_allowed_recurrences_are_read_from_a_list():
    assert parse_recurrences("1 month, 2 months,3 Months, 1 year, 1 month") == [
        MONTHLY,
        Recurrence(2, "month"),
        QUARTERLY,
        Recurrence(1, "year"),
    ]
    assert parse_recurrences("") == []
    for bad in ("monthly", "0 month", "2 fortnights", "1.5 months", "1 month 2"):
        with pytest.raises(ValueError):
            parse_recurrences(bad)
