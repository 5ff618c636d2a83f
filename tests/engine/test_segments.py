import numpy as np
import pytest

from retention_loyalty.engine.segments import (
    RISK_LEVELS,
    RiskThresholds,
    overdue_ratio,
    raised_by_service_signals,
    risk_levels,
    tier_thresholds,
    tiers_by_threshold,
    usual_gap_days,
    validate_cutoffs,
    value_tiers,
)

ABC = [0.8, 0.95, 1.0]


def test_pareto_tiers_by_cumulative_share():
    # Total 100: 50 + 30 reach 80 % -> A; 10 + 5 reach 95 % -> B; the rest C.
    values = [5, 50, 1, 30, 10, 4, 0]
    tiers = value_tiers(values, ABC)
    assert tiers.tolist() == [1, 0, 2, 0, 1, 2, 2]


def test_the_customer_who_crosses_a_cutoff_stays_in_the_better_tier():
    # 60 alone is 60 %; the second one starts at 60 % < 80 % so is A as well.
    assert value_tiers([60, 30, 10], ABC).tolist() == [0, 0, 1]


def test_ties_share_a_tier_and_input_order_does_not_matter():
    values = np.array([40, 20, 20, 20])
    tiers = value_tiers(values, [0.5, 1.0])
    # 40 starts at 0; the three 20s all start at 40 % < 50 %: all in the first tier.
    assert tiers.tolist() == [0, 0, 0, 0]
    rng = np.random.default_rng(3)
    values = rng.integers(0, 50, size=200).astype(float)
    permutation = rng.permutation(200)
    assert (value_tiers(values, ABC)[permutation] == value_tiers(values[permutation], ABC)).all()


def test_no_value_goes_to_the_last_tier():
    assert value_tiers([0, 0], ABC).tolist() == [2, 2]
    assert value_tiers([-5, 10], ABC).tolist() == [2, 0]
    assert value_tiers([], ABC).tolist() == []


def test_share_of_a_tier_follows_the_cutoffs_on_a_long_tail():
    rng = np.random.default_rng(7)
    values = rng.pareto(1.16, size=10_000) + 1  # the 80/20 law
    tiers = value_tiers(values, ABC)
    share_a = values[tiers == 0].sum() / values.sum()
    assert 0.8 <= share_a < 0.8 + values.max() / values.sum() + 1e-9
    assert (tiers == 0).mean() < 0.4, "a minority of customers brings 80 % of the value"


@pytest.mark.parametrize(
    ("cutoffs", "message"),
    [
        ([], "At least one value tier"),
        ([0.5, 0.4, 1.0], "must increase"),
        ([0.8, 0.8, 1.0], "must increase"),
        ([0.8, 0.95], "must reach 100 %"),
        ([0, 1.0], "between 0 % and 100 %"),
        ([0.8, 1.2], "between 0 % and 100 %"),
    ],
)
def test_bad_cutoffs(cutoffs, message):
    with pytest.raises(ValueError, match=message):
        validate_cutoffs(cutoffs)


def test_overdue_ratio_is_days_over_the_usual_gap():
    ratio = overdue_ratio([60, 60, 10, -3], [30, 40, 40, 20])
    assert ratio.tolist() == [2.0, 1.5, 0.25, 0.0]
    with pytest.raises(ValueError, match="usual gap"):
        overdue_ratio([1], [0])
    with pytest.raises(ValueError, match="usual gap"):
        overdue_ratio([1], [float("nan")])
    with pytest.raises(ValueError, match="typical gap"):
        usual_gap_days([1], [1.0], 0.0, 10.0)
    with pytest.raises(ValueError, match="typical gap"):
        usual_gap_days([1], [1.0], 10.0, float("nan"))


def test_risk_levels_take_the_worse_signal():
    p_alive = [0.95, 0.5, 0.95, 0.2, 0.05, 0.95, 1.0]
    # Past the usual gap (above 1) the P(alive) signal may make them worse.
    overdue = [0.5, 0.5, 1.6, 1.2, 1.2, 4.0, 3.0]
    levels = risk_levels(p_alive, overdue)
    assert [RISK_LEVELS[i] for i in levels] == [
        "low",
        "medium",
        "medium",
        "high",
        "lost",
        "lost",
        "high",
    ]


def test_tiny_probabilities_are_compared_not_clamped():
    levels = risk_levels([1e-300, 0.0999999], [1.1, 1.1])
    assert levels.tolist() == [3, 3]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"medium_p_alive": 0.2}, "must decrease from medium"),  # below high
        ({"lost_p_alive": -0.1}, "between 0 and 1"),
        ({"medium_p_alive": 1.5}, "between 0 and 1"),
        ({"high_overdue": 5.0}, "must increase from medium"),  # above lost
        ({"medium_overdue": 0}, "must be positive"),
    ],
)
def test_overlapping_thresholds_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RiskThresholds(**kwargs).validate()
    with pytest.raises(ValueError, match=message):
        risk_levels([0.5], [1.0], RiskThresholds(**kwargs))


def test_risk_inputs_must_match():
    with pytest.raises(ValueError, match="one value per customer"):
        risk_levels([0.5, 0.4], [1.0])


def test_thresholds_place_new_values_like_the_full_ranking():
    rng = np.random.default_rng(11)
    values = rng.pareto(1.16, size=2000) + 1
    tiers = value_tiers(values, ABC)
    thresholds = tier_thresholds(values, tiers, 3)
    assert thresholds[0] >= thresholds[1]
    assert (tiers_by_threshold(values, thresholds) == tiers).all()
    assert tiers_by_threshold([values.max() * 2, 0.0, -1.0], thresholds).tolist() == [0, 2, 2]


def test_thresholds_of_an_empty_tier():
    assert tier_thresholds(np.array([10.0, 1.0]), np.array([0, 2]), 3) == [10.0, 10.0]
    with pytest.raises(ValueError, match="must not increase"):
        tiers_by_threshold([1.0], [1.0, 5.0])


def test_a_service_failure_raises_risk_one_level_up_to_high():
    risk = np.array([0, 1, 2, 3, 0])
    flagged = np.array([True, True, True, True, False])
    assert raised_by_service_signals(risk, flagged).tolist() == [1, 2, 2, 3, 0]
    with pytest.raises(ValueError):
        raised_by_service_signals(risk, flagged[:2])
