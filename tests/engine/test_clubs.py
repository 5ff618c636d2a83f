from datetime import date

import numpy as np
import pytest

from retention_loyalty.engine.clubs import (
    DOWNGRADE,
    END_GRACE,
    KEEP,
    NO_LEVEL,
    START_GRACE,
    UPGRADE,
    NextLevel,
    check_thresholds,
    next_level,
    plan_transitions,
    qualified_levels,
    window_end,
    window_start,
)

LADDER = [500.0, 2000.0, 5000.0]  # Silver, Gold, Platinum


def test_windows():
    today = date(2026, 11, 23)
    assert window_start(today, "trailing", 365) == date(2025, 11, 24)
    assert window_start(today, "trailing", 1) == today
    assert window_start(today, "calendar_year") == date(2026, 1, 1)
    assert window_end(today, "calendar_year") == date(2026, 12, 31)
    assert window_end(today, "trailing", 30) == date(2026, 12, 22)
    for days in (0, -5):
        with pytest.raises(ValueError, match="at least one day"):
            window_start(today, "trailing", days)
    with pytest.raises(ValueError, match="Unknown qualification window 'fortnight'"):
        window_start(today, "fortnight", 14)


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ([500, 500], "more than the level below"),
        ([2000, 500], "more than the level below"),
        ([100, 50, 200], "more than the level below"),
        ([0, 100], "threshold above zero"),
        ([-1], "threshold above zero"),
    ],
)
def test_overlapping_or_empty_thresholds_are_refused(thresholds, message):
    with pytest.raises(ValueError, match=message):
        check_thresholds(thresholds)


def test_each_customer_gets_the_highest_level_reached():
    levels = qualified_levels([0, 499.99, 500, 1999, 2000, 4999, 5000, 1e9], LADDER)
    assert levels.tolist() == [NO_LEVEL, NO_LEVEL, 0, 0, 1, 1, 2, 2]


def test_transitions_up_at_once_down_after_grace():
    held = np.array([NO_LEVEL, 0, 1, 1, 1, 2, 2, NO_LEVEL])
    qualified = np.array([1, 2, 0, 0, 1, NO_LEVEL, 0, NO_LEVEL])
    in_grace = np.array([False, False, False, True, True, True, True, False])
    grace_over = np.array([False, False, False, False, False, True, True, False])
    plan = plan_transitions(held, qualified, in_grace, grace_over)
    assert plan.tolist() == [
        UPGRADE,  # new member straight into Gold
        UPGRADE,  # Silver to Platinum
        START_GRACE,  # Gold no longer reached
        KEEP,  # still in grace, not over
        END_GRACE,  # qualifies again
        DOWNGRADE,  # grace over, qualifies for nothing: leaves
        DOWNGRADE,  # grace over: down to Silver
        KEEP,
    ]


def test_order_confirmation_never_starts_a_downgrade():
    plan = plan_transitions([1, 1, 0], [0, 2, 0], [False, False, True], [False, False, True], False)
    assert plan.tolist() == [KEEP, UPGRADE, END_GRACE]


def test_next_level_needs():
    assert next_level(0, LADDER) == NextLevel(level=0, missing=500.0)
    assert next_level(499.5, LADDER) == NextLevel(level=0, missing=0.5)
    assert next_level(500, LADDER) == NextLevel(level=1, missing=1500.0)  # Silver reached
    assert next_level(1500, LADDER) == NextLevel(level=1, missing=500.0)
    assert next_level(4999.25, LADDER) == NextLevel(level=2, missing=0.75)
    assert next_level(5000, LADDER) is None  # Platinum is the top
    assert next_level(7000, LADDER) is None
