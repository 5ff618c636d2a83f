import cdnow
import numpy as np
import pytest

from retention_loyalty.engine import bgnbd

NAMES = ("r", "alpha", "a", "b")
# Fader, Hardie & Lee (2005), maximum-likelihood estimates on CDNOW (weeks),
# published to 3 decimals, and the log-likelihood at the optimum.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4

# E[Y(t) | x, t_x, T] computed independently with mpmath (60 digits) from
# equation (10) with the direct 2F1 series; a = 1 from the integral over the
# drop-out probability. Columns: r, alpha, a, b, t, x, t_x, T, value.
HIGH_PRECISION = [
    # CDNOW customer 1 with the published parameters
    (0.243, 4.414, 0.793, 2.426, 39.0, 2.0, 30.43, 38.86, 1.2260281747671444),
    # frequent buyers: 2F1 of the direct form is huge
    (0.243, 4.414, 0.793, 2.426, 52.0, 300.0, 299.0, 300.0, 47.811891104408685),
    (0.243, 4.414, 0.793, 2.426, 52.0, 2000.0, 390.0, 400.0, 1.0987583930305457e-16),
    (80.0, 45.8, 2.68, 0.34, 462.0, 2000.0, 400.0, 401.0, 737.41155629427645),
    (2.0, 10.0, 300.0, 50.0, 52.0, 5.0, 20.0, 30.0, 0.027623462820305665),
    # scipy's hyp2f1 fails on both forms here: the quadrature runs
    (645.0, 0.001288, 429.5, 115.2, 1.386, 50.0, 0.01, 0.01004, 0.043889430320765281),
    (0.003525, 0.01202, 0.8629, 654.0, 829.3, 1.0, 0.05, 0.05826, 2021.3813334967574),
    # a = 1: the closed form is 0/0
    (0.243, 4.414, 1.0, 2.426, 52.0, 3.0, 20.0, 38.86, 1.1794336153552731),
]


@pytest.fixture(scope="module")
def data():
    return cdnow.summary()


@pytest.fixture(scope="module")
def params(data):
    return bgnbd.fit(data["frequency"], data["recency"], data["T"])


@pytest.fixture(scope="module")
def oracle(data):
    lifetimes = pytest.importorskip("lifetimes")
    return lifetimes.BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])


def oracle_params(oracle):
    return bgnbd.BgNbdParams(*(float(oracle.params_[name]) for name in NAMES))


def test_reproduces_the_published_estimates(params):
    assert params.converged, params.message
    for name, value in PUBLISHED.items():
        assert round(getattr(params, name), 3) == value, name
    assert params.log_likelihood == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)


def test_agrees_with_lifetimes_parameters(data, params, oracle):
    for name in NAMES:
        assert getattr(params, name) == pytest.approx(oracle.params_[name], rel=1e-5), name
    # Not worse than lifetimes' optimum.
    theirs = bgnbd.log_likelihood(
        oracle_params(oracle), data["frequency"], data["recency"], data["T"]
    )
    assert params.log_likelihood >= theirs - 1e-6


@pytest.mark.parametrize("penalizer", [0.001, 0.1])
def test_penalized_fit_agrees_with_lifetimes(data, penalizer):
    lifetimes = pytest.importorskip("lifetimes")
    x, t_x, t_age = data["frequency"], data["recency"], data["T"]
    oracle = lifetimes.BetaGeoFitter(penalizer_coef=penalizer).fit(x, t_x, t_age)
    params = bgnbd.fit(x, t_x, t_age, penalizer=penalizer)
    for name in NAMES:
        assert getattr(params, name) == pytest.approx(oracle.params_[name], rel=1e-5), name


@pytest.mark.parametrize("horizon", [39, 52])
def test_agrees_with_lifetimes_predictions(data, oracle, horizon):
    # Same parameters on both sides, so only the formulas are compared.
    params = oracle_params(oracle)
    x, t_x, t_age = data["frequency"], data["recency"], data["T"]
    np.testing.assert_allclose(
        bgnbd.p_alive(params, x, t_x, t_age),
        oracle.conditional_probability_alive(x, t_x, t_age),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        bgnbd.conditional_expected_purchases(params, horizon, x, t_x, t_age),
        oracle.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, t_age),
        rtol=1e-8,
    )
    times = np.array([0.5, 1.0, 10.0, horizon, 500.0])
    np.testing.assert_allclose(
        bgnbd.expected_purchases(params, times),
        oracle.expected_number_of_purchases_up_to_time(times),
        rtol=1e-8,
    )


@pytest.mark.parametrize("case", HIGH_PRECISION)
def test_conditional_expectation_where_hyp2f1_struggles(case):
    r, alpha, a, b, t, x, t_x, t_age, expected = case
    params = bgnbd.BgNbdParams(r, alpha, a, b)
    with np.errstate(all="raise"):  # no floating-point warning escapes
        value = bgnbd.conditional_expected_purchases(params, t, [x], [t_x], [t_age])
    assert value[0] == pytest.approx(expected, rel=1e-7)


def test_closed_form_covers_frequent_buyers_without_quadrature():
    # The quadrature is the slow last resort: Euler's transformation keeps
    # the closed form usable where the direct 2F1 overflows.
    for r, alpha, a, b, t, x, _t_x, t_age, _value in HIGH_PRECISION[1:5]:
        value = bgnbd._closed_form_if_alive(r, alpha, a, b, t, np.array([x]), np.array([t_age]))
        assert np.all(np.isfinite(value))


def test_a_near_one_is_continuous():
    values = [
        bgnbd.conditional_expected_purchases(
            bgnbd.BgNbdParams(0.243, 4.414, a, 2.426), 52.0, [3.0], [20.0], [38.86]
        )[0]
        for a in (1 - 1e-3, 1 - 1e-5, 1.0, 1 + 1e-5, 1 + 1e-3)
    ]
    assert values[2] == pytest.approx(1.1794336153552731, rel=1e-8)
    assert values[0] > values[1] > values[2] > values[3] > values[4]  # falls with a
    assert np.all(np.abs(np.diff(values)) < 1e-3)


def test_expected_purchases_match_a_simulation():
    # Simulate the BG/NBD story itself: no formula shared with the code.
    rng = np.random.default_rng(7)
    params = bgnbd.BgNbdParams(0.5, 8.0, 0.8, 2.5)
    n, horizon = 40_000, 52.0
    rate = rng.gamma(params.r, 1 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    clock, count = np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        clock[active] += rng.exponential(1 / rate[active])
        active &= clock <= horizon
        count[active] += 1
        active &= rng.random(n) >= dropout
    expected = bgnbd.expected_purchases(params, horizon)
    standard_error = count.std() / np.sqrt(n)
    assert abs(count.mean() - expected) < 4 * standard_error


def test_conditional_expectation_grows_with_time_within_its_bounds(data, params):
    x, t_x, t_age = data["frequency"], data["recency"], data["T"]
    alive = bgnbd.p_alive(params, x, t_x, t_age)
    previous = np.zeros(x.shape)
    for t in (1.0, 4.0, 13.0, 52.0, 260.0):
        value = bgnbd.conditional_expected_purchases(params, t, x, t_x, t_age)
        assert np.all(value > previous)
        # While alive, at most the purchases of someone who never leaves.
        assert np.all(value <= alive * (params.r + x) * t / (params.alpha + t_age) * (1 + 1e-12))
        previous = value


def test_log_likelihood_is_maximal_at_the_fit(data, params):
    x, t_x, t_age = data["frequency"], data["recency"], data["T"]
    best = bgnbd.log_likelihood(params, x, t_x, t_age)
    assert best == pytest.approx(params.log_likelihood)
    for name in NAMES:
        for factor in (0.99, 1.01):
            moved = bgnbd.BgNbdParams(
                **{k: getattr(params, k) * (factor if k == name else 1) for k in NAMES}
            )
            assert bgnbd.log_likelihood(moved, x, t_x, t_age) < best


def test_weights_equal_duplicated_rows(data):
    x, t_x, t_age = data["frequency"][:400], data["recency"][:400], data["T"][:400]
    weights = np.arange(400) % 3 + 1
    weighted = bgnbd.fit(x, t_x, t_age, weights=weights)
    repeated = bgnbd.fit(np.repeat(x, weights), np.repeat(t_x, weights), np.repeat(t_age, weights))
    for name in NAMES:
        assert getattr(weighted, name) == pytest.approx(getattr(repeated, name), rel=1e-5)
    assert weighted.log_likelihood == pytest.approx(repeated.log_likelihood, rel=1e-10)
    compressed = bgnbd.compress(
        np.repeat(x, weights), np.repeat(t_x, weights), np.repeat(t_age, weights)
    )
    assert compressed[3].sum() == weights.sum()
    assert bgnbd.log_likelihood(weighted, *compressed) == pytest.approx(weighted.log_likelihood)


def test_one_order_customers_are_alive_by_construction(params):
    assert bgnbd.p_alive(params, [0, 0], [0, 0], [5, 500]).tolist() == [1.0, 1.0]
    assert bgnbd.log_p_alive(params, [0], [0], [500]).tolist() == [0.0]


def test_tiny_probabilities_are_exact_not_clamped(params):
    # A frequent buyer silent for years: almost surely gone, but not zero.
    p = bgnbd.p_alive(params, [60.0], [10.0], [2000.0])
    odds = (
        params.a
        / (params.b + 59)
        * ((params.alpha + 2000) / (params.alpha + 10)) ** (params.r + 60)
    )
    assert p[0] == pytest.approx(1 / (1 + odds), rel=1e-9)
    assert 0 < p[0] < 1e-50
    assert np.log(p[0]) == pytest.approx(bgnbd.log_p_alive(params, [60.0], [10.0], [2000.0])[0])
    more_silence = bgnbd.p_alive(params, [60.0], [10.0], [4000.0])
    assert 0 < more_silence[0] < p[0]
    expected = bgnbd.conditional_expected_purchases(params, 52, [60.0], [10.0], [2000.0])
    assert np.all(np.isfinite(expected)) and 0 < expected[0] < 1e-40
    # Beyond the float range, P(alive) underflows to 0 but its log stays exact:
    # log P = -log(1 + odds), odds = a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x).
    x, t_x, t_age = 2000.0, 10.0, 500.0
    log_odds = np.log(params.a / (params.b + x - 1)) + (params.r + x) * np.log(
        (params.alpha + t_age) / (params.alpha + t_x)
    )
    assert bgnbd.log_p_alive(params, [x], [t_x], [t_age])[0] == pytest.approx(-log_odds)
    assert bgnbd.p_alive(params, [x], [t_x], [t_age])[0] == 0.0
    assert not np.isnan(bgnbd.conditional_expected_purchases(params, 52, [x], [t_x], [t_age])[0])


def test_expected_time_to_next_purchase(params, data):
    x, t_x, t_age = data["frequency"], data["recency"], data["T"]
    weeks = bgnbd.expected_time_to_next_purchase(params, x, t_x, t_age, max_time=156)
    found = np.isfinite(weeks)
    assert found.any() and (~found).any()
    assert np.all(weeks[found] > 0) and np.all(weeks[found] <= 156)
    # At that time one purchase is expected, by definition.
    at = bgnbd.conditional_expected_purchases(
        params, weeks[found], x[found], t_x[found], t_age[found]
    )
    np.testing.assert_allclose(at, 1.0, atol=1e-6)
    # Customers who are not found do not reach one purchase within the limit.
    beyond = bgnbd.conditional_expected_purchases(
        params, 156, x[~found], t_x[~found], t_age[~found]
    )
    assert np.all(beyond < 1.0)


def test_empty_input():
    params = bgnbd.BgNbdParams(0.24, 4.4, 0.79, 2.4)
    assert bgnbd.p_alive(params, [], [], []).size == 0
    assert bgnbd.log_p_alive(params, [], [], []).size == 0
    assert bgnbd.conditional_expected_purchases(params, 10, [], [], []).size == 0
    assert bgnbd.expected_time_to_next_purchase(params, [], [], [], 10).size == 0
    with pytest.raises(ValueError, match="repeat purchases"):
        bgnbd.fit([], [], [])


@pytest.mark.parametrize(
    "x, t_x, t_age, message",
    [
        ([-1], [1], [2], "negative"),
        ([1], [-1], [2], "negative"),
        ([1], [3], [2], "after the age"),
        ([1], [0], [2], "positive recency"),
        ([1], [np.nan], [2], "finite"),
        ([1, 2], [1], [2], "one value per customer"),
    ],
)
def test_invalid_input(x, t_x, t_age, message):
    params = bgnbd.BgNbdParams(1, 1, 1, 1)
    with pytest.raises(ValueError, match=message):
        bgnbd.p_alive(params, x, t_x, t_age)
    with pytest.raises(ValueError, match=message):
        bgnbd.fit(x, t_x, t_age)


def test_invalid_horizon_weights_and_penalizer():
    params = bgnbd.BgNbdParams(1, 1, 1, 1)
    with pytest.raises(ValueError, match="horizon"):
        bgnbd.conditional_expected_purchases(params, -1, [1], [1], [2])
    with pytest.raises(ValueError, match="weights"):
        bgnbd.fit([1, 2], [1, 2], [3, 3], weights=[1, -1])
    with pytest.raises(ValueError, match="weights"):
        bgnbd.fit([1, 2], [1, 2], [3, 3], weights=[1])
    with pytest.raises(ValueError, match="penalizer"):
        bgnbd.fit([1, 2], [1, 2], [3, 3], penalizer=-1)


def test_no_repeat_customer_cannot_be_fitted():
    with pytest.raises(ValueError, match="repeat purchases"):
        bgnbd.fit([0, 0, 0], [0, 0, 0], [3, 4, 5])


def test_clockwork_buyers_stay_predictable():
    # Everyone buys exactly every 4 weeks and nobody leaves: no spread of
    # rates, so r and alpha run to their bounds, yet predictions stay finite.
    x = np.full(50, 24.0)
    t_x = np.full(50, 96.0) + np.arange(50) % 3
    t_age = t_x + 2
    params = bgnbd.fit(x, t_x, t_age)
    assert params.r == pytest.approx(1e4) and params.b == pytest.approx(1e5)
    assert params.a == pytest.approx(1e-4)
    np.testing.assert_allclose(bgnbd.p_alive(params, x, t_x, t_age), 1.0, atol=1e-9)
    expected = bgnbd.conditional_expected_purchases(params, 52, x, t_x, t_age)
    # Without spread or drop-out the model is one Poisson rate for all, whose
    # maximum-likelihood estimate is purchases over exposure (first purchase
    # to T): 1,200 / 4,949 weeks, so 12.609 in 52 weeks rather than the 13
    # of the buyers' own 4-week rhythm. The bound on r lets each customer
    # deviate from it by their own (r + x) / (alpha + T), a few 1e-5.
    pooled = x.sum() / t_age.sum()
    assert t_age.sum() == 4949
    np.testing.assert_allclose(expected, 52 * pooled, rtol=5e-5)
    np.testing.assert_allclose(expected, 52 * (params.r + x) / (params.alpha + t_age), rtol=1e-8)
