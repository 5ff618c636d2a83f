import numpy as np
import pytest
from scipy import stats

from retention_loyalty.engine import roi

# Newcombe (1998), "Interval estimation for the difference between independent
# proportions: comparison of eleven methods", Statistics in Medicine 17,
# table II, method 10 (hybrid score): k1, n1, k2, n2, lower, upper. The same
# eight rows come out of statsmodels 0.15 (confint_proportions_2indep,
# method "newcomb") to four decimals.
NEWCOMBE_TABLE_II = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
]


@pytest.mark.parametrize("k1, n1, k2, n2, low, high", NEWCOMBE_TABLE_II)
def test_newcombe_interval_matches_the_published_table(k1, n1, k2, n2, low, high):
    difference, got_low, got_high = roi.newcombe_interval(k1, n1, k2, n2)
    assert difference == pytest.approx(k1 / n1 - k2 / n2)
    assert round(float(got_low), 4) == low
    assert round(float(got_high), 4) == high


@pytest.mark.parametrize("k, n", [(0, 5), (1, 3), (7, 20), (20, 20), (381, 1000)])
def test_wilson_interval_matches_scipy(k, n):
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = roi.wilson_interval(k, n)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_welch_interval_by_hand():
    # Reached [10, 20, 30]: mean 20, variance 100; control [5, 15]: mean 10,
    # variance 50. SE^2 = 100/3 + 50/2 = 175/3; Welch-Satterthwaite
    # df = (175/3)^2 / ((100/3)^2 / 2 + 25^2 / 1) = 30625/10625 = 2.88235...
    difference, low, high = roi.welch_interval(20, 100, 3, 10, 50, 2)
    standard_error = np.sqrt(175 / 3)
    df = 30625 / 10625
    half = stats.t.ppf(0.975, df) * standard_error
    assert difference == 10
    assert low == pytest.approx(10 - half, rel=1e-12)
    assert high == pytest.approx(10 + half, rel=1e-12)
    # The t quantile at 2.882 degrees of freedom is 3.2573; the interval is
    # 10 -/+ 24.877, far wider than a normal approximation's 10 -/+ 14.97.
    assert stats.t.ppf(0.975, df) == pytest.approx(3.2573, abs=1e-4)
    assert low == pytest.approx(-14.8773, abs=1e-4)
    assert high == pytest.approx(34.8773, abs=1e-4)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_welch_interval_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.gamma(0.8, 60.0, 400)
    y = rng.gamma(0.8, 50.0, 37)
    expected = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    difference, low, high = roi.welch_interval(
        x.mean(), x.var(ddof=1), x.size, y.mean(), y.var(ddof=1), y.size
    )
    assert difference == pytest.approx(x.mean() - y.mean(), rel=1e-12)
    assert low == pytest.approx(expected.low, rel=1e-10)
    assert high == pytest.approx(expected.high, rel=1e-10)


def test_welch_without_spread_is_exact():
    difference, low, high = roi.welch_interval(12.0, 0.0, 5, 7.0, 0.0, 4)
    assert (difference, low, high) == (5.0, 5.0, 5.0)


def outcomes(groups):
    """Per-customer columns from {playbook: (reached rows, control rows)}
    with rows (reordered, revenue, margin, cost)."""
    rows = []
    for index, (reached, control) in enumerate(groups):
        rows += [(index, False, *row) for row in reached]
        rows += [(index, True, *row) for row in control]
    columns = list(zip(*rows, strict=True))
    return [np.array(column) for column in columns]


def test_roi_by_hand_pays_off():
    # Playbook 0: reached customers bring margin 30, 32, 34, 36 at a cost of
    # 5 each (net 25, 27, 29, 31); control customers 10, 12, 14.
    reached = [(1, 100.0, 30.0, 5.0), (1, 110.0, 32.0, 5.0)]
    reached += [(1, 120.0, 34.0, 5.0), (0, 130.0, 36.0, 5.0)]
    control = [(1, 40.0, 10.0, 0.0), (0, 50.0, 12.0, 0.0), (0, 60.0, 14.0, 0.0)]
    result = roi.roi_from_outcomes(*outcomes([(reached, control)]), has_control=[True])
    assert result.verdict.tolist() == [roi.PAYS_OFF]
    assert result.reached.tolist() == [4] and result.control.tolist() == [3]
    assert result.reached_rate[0] == 0.75 and result.control_rate[0] == pytest.approx(1 / 3)
    assert result.revenue_difference[0] == pytest.approx(115 - 50)
    assert result.margin_difference[0] == pytest.approx(33 - 12)
    assert result.cost_per_reached[0] == 5
    assert result.net_return[0] == pytest.approx(28 - 12)
    # Net: reached mean 28, variance 20/3; control mean 12, variance 4.
    a, b = (20 / 3) / 4, 4 / 3
    df = (a + b) ** 2 / (a * a / 3 + b * b / 2)
    half = stats.t.ppf(0.975, df) * np.sqrt(a + b)
    assert result.net_low[0] == pytest.approx(16 - half, rel=1e-12)
    assert result.net_high[0] == pytest.approx(16 + half, rel=1e-12)
    assert result.net_low[0] > 0
    assert np.isnan(result.customers_needed[0])
    _difference, low, high = roi.newcombe_interval(3, 4, 1, 3)
    assert (result.rate_low[0], result.rate_high[0]) == (pytest.approx(low), pytest.approx(high))


def test_costs_more_than_it_brings():
    # Same margins in both groups, an incentive of 20 per reached customer.
    margins = [10.0, 20.0, 30.0, 40.0]
    reached = [(1, m * 2, m, 20.0) for m in margins] * 5
    control = [(1, m * 2, m, 0.0) for m in margins] * 5
    result = roi.roi_from_outcomes(*outcomes([(reached, control)]), has_control=[True])
    assert result.verdict.tolist() == [roi.COSTS_MORE]
    assert result.net_return[0] == pytest.approx(-20.0)
    assert result.margin_difference[0] == pytest.approx(0.0)
    assert result.net_high[0] < 0


def test_not_enough_data_says_how_many_more():
    rng = np.random.default_rng(5)
    reached_margin = rng.normal(12.0, 40.0, 60)
    control_margin = rng.normal(10.0, 40.0, 20)
    reached = [(1, m, m, 0.0) for m in reached_margin]
    control = [(1, m, m, 0.0) for m in control_margin]
    result = roi.roi_from_outcomes(*outcomes([(reached, control)]), has_control=[True])
    assert result.verdict.tolist() == [roi.NOT_ENOUGH_DATA]
    assert result.net_low[0] < 0 < result.net_high[0]
    # The sample size formula by hand, ratio 3:1 kept.
    d = reached_margin.mean() - control_margin.mean()
    s_r, s_c = reached_margin.var(ddof=1), control_margin.var(ddof=1)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    control_needed = z**2 * (s_r / 3 + s_c) / d**2
    expected = np.ceil(control_needed * 4) - 80
    assert result.customers_needed[0] == expected
    assert expected > 0


def test_sample_size_gives_power_at_the_observed_effect():
    # With the customers it asks for, the interval half-width is about
    # (z_0.975 / (z_0.975 + z_0.8)) of the effect: 0.70 d.
    needed = roi.customers_needed(
        np.array([100.0]),
        np.array([50.0]),
        np.array([100.0]),
        np.array([50.0]),
        np.array([2.0]),
        0.95,
        0.8,
    )
    total = needed[0] + 100
    per_group = total / 2
    half_width = stats.norm.ppf(0.975) * np.sqrt(200 / per_group)
    assert half_width == pytest.approx(2.0 * 1.959964 / (1.959964 + 0.841621), rel=1e-3)
    assert np.isnan(roi.customers_needed(*(np.array([1.0]),) * 4, np.array([0.0]), 0.95, 0.8)[0])


def test_no_roi_without_control_group_or_with_one_control_customer():
    reached = [(1, 10.0, 5.0, 1.0)] * 5
    groups = [
        (reached, []),  # control group off
        (reached, []),  # control on, nobody drawn yet
        (reached, [(0, 0.0, 0.0, 0.0)]),  # one control customer: no spread
        ([(1, 10.0, 5.0, 1.0)], [(0, 0.0, 0.0, 0.0)] * 4),  # one reached customer
    ]
    result = roi.roi_from_outcomes(*outcomes(groups), has_control=[False, True, True, True])
    assert result.verdict.tolist() == [roi.NO_CONTROL, roi.TOO_FEW, roi.TOO_FEW, roi.TOO_FEW]
    for name in ("rate_difference", "net_return", "net_low", "margin_high", "customers_needed"):
        assert np.all(np.isnan(getattr(result, name))), name
    # What is known is still shown: rates and cost of the reached group.
    assert result.reached_rate[0] == 1.0 and np.isnan(result.control_rate[0])
    assert result.control_rate[2] == 0.0
    assert result.cost_per_reached.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_playbooks_are_independent_and_vectorised():
    rng = np.random.default_rng(11)
    n, playbooks = 5000, 7
    index = rng.integers(0, playbooks, n)
    control = rng.random(n) < 0.2
    reordered = (rng.random(n) < 0.3).astype(float)
    revenue = reordered * rng.gamma(1.0, 80.0, n)
    margin = revenue * 0.3
    cost = np.where(control, 0.0, rng.choice([0.0, 5.0], n))
    together = roi.roi_from_outcomes(
        index, control, reordered, revenue, margin, cost, has_control=[True] * playbooks
    )
    for p in range(playbooks):
        own = index == p
        alone = roi.roi_from_outcomes(
            np.zeros(own.sum(), dtype=int),
            control[own],
            reordered[own],
            revenue[own],
            margin[own],
            cost[own],
            has_control=[True],
        )
        for name in ("net_return", "net_low", "rate_low", "revenue_high", "cost_per_reached"):
            assert getattr(together, name)[p] == pytest.approx(getattr(alone, name)[0], rel=1e-9)
        # And Welch on the net values, straight from scipy.
        net = margin[own] - cost[own]
        ci = stats.ttest_ind(
            net[~control[own]], net[control[own]], equal_var=False
        ).confidence_interval()
        assert together.net_low[p] == pytest.approx(ci.low, rel=1e-9)
        assert together.net_high[p] == pytest.approx(ci.high, rel=1e-9)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"reordered": [2.0]}, "0 or 1"),
        ({"cost": [-1.0]}, "cannot be negative"),
        ({"margin": [np.nan]}, "finite"),
        ({"playbook_index": [3]}, "out of range"),
        ({"revenue": [1.0, 2.0]}, "every outcome"),
    ],
)
def test_bad_input(change, message):
    columns = {
        "playbook_index": [0],
        "in_control": [False],
        "reordered": [1.0],
        "revenue": [1.0],
        "margin": [1.0],
        "cost": [0.0],
    }
    columns.update(change)
    with pytest.raises(ValueError, match=message):
        roi.roi_from_outcomes(**columns, has_control=[True])


def test_empty_input():
    result = roi.roi_from_outcomes([], [], [], [], [], [], has_control=[True, False])
    assert result.verdict.tolist() == [roi.TOO_FEW, roi.NO_CONTROL]
