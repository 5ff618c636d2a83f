import math
from datetime import date

import pytest

from retention_loyalty.engine.playbooks import (
    Effect,
    catch_up_window,
    cooled_down,
    in_control_group,
    is_overdue,
    order_matches,
    recurring_between,
)


def test_control_group_is_stable_and_about_the_share():
    members = [in_control_group(7, partner, 10) for partner in range(20000)]
    assert members == [in_control_group(7, partner, 10) for partner in range(20000)]
    # The draw is a hash, not a random number: the group is always the same.
    assert sum(members) == 2067
    # ... and behaves like a fair draw: 2,000 expected, a binomial standard
    # deviation of 42, and 2,067 is within 4 of them.
    assert abs(sum(members) - 2000) < 4 * math.sqrt(20000 * 0.1 * 0.9)
    assert not any(in_control_group(7, partner, 0) for partner in range(100))
    assert all(in_control_group(7, partner, 100) for partner in range(100))
    # Another playbook draws another group.
    other = [in_control_group(8, partner, 10) for partner in range(20000)]
    assert sum(other) == 2008
    # Independent draws share about 1 % (200) of the customers: 234 here.
    assert sum(a and b for a, b in zip(members, other, strict=True)) == 234


def test_a_half_control_group_of_forty_customers():
    # The customers of a 50 % control group are known in advance: 22 of 40 here.
    members = [partner for partner in range(1, 41) if in_control_group(3, partner, 50)]
    assert members == [
        1,
        2,
        4,
        5,
        8,
        11,
        13,
        14,
        15,
        16,
        18,
        20,
        22,
        25,
        26,
        31,
        32,
        34,
        35,
        37,
        39,
        40,
    ]


def test_cool_down():
    assert cooled_down(None, date(2026, 1, 10), 30)
    assert not cooled_down(date(2026, 1, 1), date(2026, 1, 30), 30)
    assert cooled_down(date(2026, 1, 1), date(2026, 1, 31), 30)
    assert cooled_down(date(2026, 1, 1), date(2026, 1, 1), 0)


@pytest.mark.parametrize(
    ("days_since", "gap", "factor", "days", "expected"),
    [
        (61, 30, 2, None, True),
        (60, 30, 2, None, False),
        (100, None, 2, 90, True),
        (80, None, 2, 90, False),
        (None, 30, 2, 10, False),
        (40, 0, 2, None, False),
    ],
)
def test_overdue(days_since, gap, factor, days, expected):
    assert is_overdue(days_since, gap, factor, days) is expected


def test_order_modes():
    assert order_matches(5, "every")
    assert order_matches(1, "first") and not order_matches(2, "first")
    assert order_matches(3, "nth", 3) and not order_matches(4, "nth", 3)
    assert not order_matches(3, "nth", None)


def test_effect_and_uplift():
    effect = Effect(
        reached=90,
        control=10,
        reached_reordered=45,
        control_reordered=3,
        reached_revenue=9000.0,
        control_revenue=500.0,
    )
    assert effect.reached_rate == 0.5
    assert effect.control_rate == 0.3
    assert effect.rate_uplift == pytest.approx(0.2)
    assert effect.revenue_uplift == pytest.approx(50.0)
    empty = Effect(0, 0, 0, 0, 0.0, 0.0)
    assert empty.reached_rate is None and empty.rate_uplift is None and empty.revenue_uplift is None


def test_catch_up_window_covers_missed_days_once_and_is_bounded():
    today = date(2026, 6, 10)
    assert catch_up_window(None, today) == (today, today)
    assert catch_up_window(date(2026, 6, 9), today) == (today, today)
    assert catch_up_window(date(2026, 6, 3), today) == (date(2026, 6, 4), today)
    assert catch_up_window(date(2026, 1, 1), today) == (date(2026, 6, 4), today)
    assert catch_up_window(date(2026, 1, 1), today, max_days=2) == (date(2026, 6, 9), today)
    assert catch_up_window(today, today) is None


def test_recurring_dates_between_two_days():
    dates = {
        "birthday": date(1980, 6, 5),
        "later": date(1990, 6, 12),
        "newborn": date(2026, 6, 5),
        "leap": date(2000, 2, 29),
    }
    assert recurring_between(dates, date(2026, 6, 4), date(2026, 6, 10)) == {
        "birthday": date(2026, 6, 5)
    }
    assert recurring_between(dates, date(2026, 2, 27), date(2026, 3, 1)) == {
        "leap": date(2026, 2, 28)
    }
    assert recurring_between(dates, date(2028, 2, 28), date(2028, 2, 29)) == {
        "leap": date(2028, 2, 29)
    }
    assert recurring_between(dates, date(2026, 6, 6), date(2026, 6, 5)) == {}
