import cdnow
import numpy as np
import pytest

from retention_loyalty.engine import bgnbd

# Fader, Hardie & Lee (2005), maximum-likelihood estimates on CDNOW.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4


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


def test_reproduces_the_published_estimates(params):
    assert params.converged
    for name, value in PUBLISHED.items():
        assert getattr(params, name) == pytest.approx(value, abs=6e-4), name
    assert params.log_likelihood == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)


def test_agrees_with_lifetimes_parameters(params, oracle):
    for name in ("r", "alpha", "a", "b"):
        assert getattr(params, name) == pytest.approx(oracle.params_[name], rel=1e-3)


@pytest.mark.parametrize("horizon", [39, 52])
def test_agrees_with_lifetimes_predictions(data, oracle, horizon):
    # Same parameters on both sides, so only the formulas are compared.
    params = bgnbd.BgNbdParams(*(oracle.params_[name] for name in ("r", "alpha", "a", "b")))
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
    np.testing.assert_allclose(
        bgnbd.expected_purchases(params, np.array([1.0, 10.0, horizon])),
        oracle.expected_number_of_purchases_up_to_time(np.array([1.0, 10.0, horizon])),
        rtol=1e-8,
    )


def test_log_likelihood_is_maximal_at_the_fit(data, params):
    x, t_x, t_age = data["frequency"], data["recency"], data["T"]
    best = bgnbd.log_likelihood(params, x, t_x, t_age)
    for name in ("r", "alpha", "a", "b"):
        moved = bgnbd.BgNbdParams(
            **{k: getattr(params, k) * (1.02 if k == name else 1) for k in ["r", "alpha", "a", "b"]}
        )
        assert bgnbd.log_likelihood(moved, x, t_x, t_age) < best


def test_weights_equal_duplicated_rows(data):
    x, t_x, t_age = data["frequency"][:400], data["recency"][:400], data["T"][:400]
    weights = np.arange(400) % 3 + 1
    weighted = bgnbd.fit(x, t_x, t_age, weights=weights)
    repeated = bgnbd.fit(np.repeat(x, weights), np.repeat(t_x, weights), np.repeat(t_age, weights))
    for name in ("r", "alpha", "a", "b"):
        assert getattr(weighted, name) == pytest.approx(getattr(repeated, name), rel=1e-4)


def test_one_order_customers_are_alive_by_construction(params):
    assert bgnbd.p_alive(params, [0, 0], [0, 0], [5, 500]).tolist() == [1.0, 1.0]


def test_tiny_probabilities_are_exact_not_clamped(params):
    # A frequent buyer silent for years: almost surely gone, but not zero.
    p = bgnbd.p_alive(params, [60.0], [10.0], [2000.0])
    assert 0 < p[0] < 1e-50
    assert np.isfinite(np.log(p[0]))
    more_silence = bgnbd.p_alive(params, [60.0], [10.0], [4000.0])
    assert more_silence[0] < p[0]
    expected = bgnbd.conditional_expected_purchases(params, 52, [60.0], [10.0], [2000.0])
    assert np.all(np.isfinite(expected)) and 0 <= expected[0] < 1e-40


def test_expected_time_to_next_purchase(params, data):
    x, t_x, t_age = data["frequency"], data["recency"], data["T"]
    weeks = bgnbd.expected_time_to_next_purchase(params, x, t_x, t_age, max_time=156)
    found = np.isfinite(weeks)
    assert found.any() and (~found).any()
    # At that time one purchase is expected, by definition.
    at = bgnbd.conditional_expected_purchases(
        params, weeks[found], x[found], t_x[found], t_age[found]
    )
    np.testing.assert_allclose(at, 1.0, atol=1e-4)
    # Customers who are not found do not reach one purchase within the limit.
    beyond = bgnbd.conditional_expected_purchases(
        params, 156, x[~found], t_x[~found], t_age[~found]
    )
    assert np.all(beyond < 1.0)


def test_empty_input():
    params = bgnbd.BgNbdParams(0.24, 4.4, 0.79, 2.4)
    assert bgnbd.p_alive(params, [], [], []).size == 0
    assert bgnbd.expected_time_to_next_purchase(params, [], [], [], 10).size == 0
    with pytest.raises(ValueError):
        bgnbd.fit([], [], [])


@pytest.mark.parametrize(
    "x, t_x, t_age",
    [
        ([-1], [1], [2]),  # negative frequency
        ([1], [3], [2]),  # last purchase after the age
        ([1], [0], [2]),  # repeat purchase without recency
        ([1], [np.nan], [2]),
        ([1, 2], [1], [2]),
    ],
)
def test_invalid_input(x, t_x, t_age):
    with pytest.raises(ValueError):
        bgnbd.p_alive(bgnbd.BgNbdParams(1, 1, 1, 1), x, t_x, t_age)


def test_no_repeat_customer_cannot_be_fitted():
    with pytest.raises(ValueError):
        bgnbd.fit([0, 0, 0], [0, 0, 0], [3, 4, 5])


def test_clockwork_buyers_stay_predictable():
    # Everyone buys exactly every 4 weeks and nobody leaves: no spread of
    # rates, so r and alpha run to their bounds, yet predictions stay finite.
    x = np.full(50, 24.0)
    t_x = np.full(50, 96.0) + np.arange(50) % 3
    t_age = t_x + 2
    params = bgnbd.fit(x, t_x, t_age)
    expected = bgnbd.conditional_expected_purchases(params, 52, x, t_x, t_age)
    assert np.all(np.isfinite(expected))
    assert np.allclose(expected, 13, rtol=0.1)
