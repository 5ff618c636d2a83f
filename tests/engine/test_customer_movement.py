from datetime import date

import pytest

from retention_loyalty.engine.customer_movement import (
    Movement,
    classify,
    cohort_retention,
    is_active,
    movement,
)

START, END = date(2026, 3, 31), date(2026, 4, 30)  # the month of April


def test_active_window_includes_both_ends():
    days = [date(2026, 1, 1)]
    assert is_active(days, date(2026, 1, 1), 90)
    assert is_active(days, date(2026, 3, 31), 90)
    assert not is_active(days, date(2026, 4, 1), 90)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ([date(2026, 4, 10)], {"new", "active_end"}),
        ([date(2026, 3, 1), date(2026, 4, 20)], {"retained", "active_end"}),
        ([date(2026, 3, 1)], {"retained", "active_end"}),  # still within 90 days
        ([date(2025, 6, 1), date(2026, 4, 20)], {"reactivated", "active_end"}),
        ([date(2026, 1, 15)], {"churned"}),  # active on 31 March, not on 30 April
        ([date(2025, 1, 1)], set()),  # long gone
        ([date(2026, 5, 2)], set()),  # not a customer yet
    ],
)
def test_each_customer_gets_the_right_label(days, expected):
    assert classify(days, START, END, 90) == expected


def test_counts_over_a_customer_base():
    base = {
        1: [date(2026, 4, 10)],
        2: [date(2026, 3, 1), date(2026, 4, 20)],
        3: [date(2025, 6, 1), date(2026, 4, 20)],
        4: [date(2026, 1, 15)],
        5: [date(2025, 1, 1)],
    }
    assert movement(base, START, END, 90) == Movement(
        new=1, retained=1, reactivated=1, churned=1, active_end=3
    )


def test_bad_definitions_are_refused():
    with pytest.raises(ValueError):
        classify([date(2026, 4, 1)], START, END, 0)
    with pytest.raises(ValueError):
        classify([date(2026, 4, 1)], END, START, 90)


def test_cohort_retention_shares():
    base = {
        1: [date(2026, 1, 5), date(2026, 2, 7), date(2026, 3, 1)],
        2: [date(2026, 1, 20), date(2026, 3, 9)],
        3: [date(2026, 1, 25)],
        4: [date(2026, 2, 2), date(2026, 3, 3)],
    }
    cohorts = cohort_retention(base)
    january = 2026 * 12
    assert cohorts[january] == {1: pytest.approx(1 / 3), 2: pytest.approx(2 / 3)}
    assert cohorts[january + 1] == {1: 1.0}
