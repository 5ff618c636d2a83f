from datetime import date

import pytest

from retention_loyalty.engine.bonus import birthdays_between, is_profile_complete, period_key
from retention_loyalty.engine.nps import (
    net_promoter_score,
    nps_by_group,
    nps_category,
    nps_of_scores,
)


def test_period_keys():
    assert period_key(date(2026, 6, 30), "year") == "2026"
    assert period_key(date(2026, 6, 30), "month") == "2026-06"
    assert period_key(date(2027, 1, 1), "month") == "2027-01"
    assert period_key(date(2026, 6, 30), "once") == period_key(date(2031, 1, 2), "once")
    with pytest.raises(ValueError, match="Unknown bonus period"):
        period_key(date(2026, 6, 30), "week")


def test_birthdays_between_covers_leap_day_in_common_years():
    days = birthdays_between(date(2027, 2, 27), date(2027, 3, 1))
    assert days == {
        (2, 27): date(2027, 2, 27),
        (2, 28): date(2027, 2, 28),
        (2, 29): date(2027, 2, 28),
        (3, 1): date(2027, 3, 1),
    }
    # In a leap year 29 February is its own day.
    assert birthdays_between(date(2028, 2, 28), date(2028, 2, 28)) == {(2, 28): date(2028, 2, 28)}
    assert birthdays_between(date(2028, 3, 2), date(2028, 3, 1)) == {}


def test_profile_complete_needs_birthday_preference_and_an_answer():
    assert is_profile_complete(date(1980, 5, 1), 1, "yes")
    assert is_profile_complete(date(1980, 5, 1), 2, "no")
    assert not is_profile_complete(date(1980, 5, 1), 2, False)
    assert not is_profile_complete(None, 2, "yes")
    assert not is_profile_complete(date(1980, 5, 1), 0, "yes")


def test_nps_categories_at_the_limits():
    assert [nps_category(score) for score in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    with pytest.raises(ValueError, match="between 0 and 10"):
        nps_category(11)


def test_nps_by_hand():
    # 3 promoters, 2 passives, 5 detractors: 30 % - 50 % = -20.
    result = nps_of_scores([10, 9, 9, 8, 7, 6, 5, 0, 3, 6])
    assert (result.promoters, result.passives, result.detractors) == (3, 2, 5)
    assert result.responses == 10
    assert result.score == pytest.approx(-20.0)
    # All promoters: +100; no answers: no score at all.
    assert nps_of_scores([10, 9]).score == 100.0
    assert nps_of_scores([]).score is None
    assert net_promoter_score(1, 1, 1).score == 0.0
    with pytest.raises(ValueError, match="negative"):
        net_promoter_score(-1, 0, 0)


def test_nps_by_group_adds_rows_of_the_same_group():
    rows = [
        ("2026-05", "promoter", 2),
        ("2026-05", "detractor", 1),
        ("2026-06", "passive", 3),
        ("2026-05", "promoter", 1),
    ]
    scores = nps_by_group(rows)
    assert scores["2026-05"].score == pytest.approx(100.0 * (3 - 1) / 4)
    assert scores["2026-06"].score == 0.0
    with pytest.raises(ValueError, match="Unknown NPS category"):
        nps_by_group([("x", "fan", 1)])
