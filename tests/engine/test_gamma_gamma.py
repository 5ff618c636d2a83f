import cdnow
import numpy as np
import pytest

from retention_loyalty.engine import gamma_gamma

NAMES = ("p", "q", "v")
# Fader, Hardie & Lee (2005), "RFM and CLV", on the 946 CDNOW repeat customers
# (mean value zbar of their repeat purchases in the calibration period).
PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}
# ... and the correlation between frequency and zbar they report.
PUBLISHED_CORRELATION = 0.11


@pytest.fixture(scope="module")
def data():
    return cdnow.summary_with_values()


@pytest.fixture(scope="module")
def repeat_customers(data):
    repeat = data["x"] > 0
    return data["x"][repeat], data["zbar"][repeat]


@pytest.fixture(scope="module")
def params(repeat_customers):
    return gamma_gamma.fit(*repeat_customers)


@pytest.fixture(scope="module")
def oracle(repeat_customers):
    lifetimes = pytest.importorskip("lifetimes")
    return lifetimes.GammaGammaFitter().fit(*repeat_customers)


def test_reproduces_the_published_estimates(repeat_customers, params):
    assert repeat_customers[0].size == 946
    assert params.converged, params.message
    # p and q round to the published values; v is 15.448 against 15.44
    # published (truncated rather than rounded, it seems; lifetimes finds
    # 15.448 too): within one unit of the last published digit.
    assert round(params.p, 2) == PUBLISHED["p"]
    assert round(params.q, 2) == PUBLISHED["q"]
    assert params.v == pytest.approx(PUBLISHED["v"], abs=0.01)


def test_agrees_with_lifetimes(data, params, oracle):
    for name in NAMES:
        assert getattr(params, name) == pytest.approx(oracle.params_[name], rel=1e-6), name
    same = gamma_gamma.GammaGammaParams(*(float(oracle.params_[name]) for name in NAMES))
    # All 2,357 customers, those without repeat purchases get the population mean.
    np.testing.assert_allclose(
        gamma_gamma.conditional_expected_value(same, data["x"], data["zbar"]),
        oracle.conditional_expected_average_profit(data["x"], data["zbar"]),
        rtol=1e-10,
    )


@pytest.mark.parametrize("penalizer", [0.01, 0.1])
def test_penalized_fit_agrees_with_lifetimes(repeat_customers, penalizer):
    lifetimes = pytest.importorskip("lifetimes")
    oracle = lifetimes.GammaGammaFitter(penalizer_coef=penalizer).fit(*repeat_customers)
    params = gamma_gamma.fit(*repeat_customers, penalizer=penalizer)
    for name in NAMES:
        assert getattr(params, name) == pytest.approx(oracle.params_[name], rel=1e-5), name


def test_log_likelihood_is_maximal_at_the_fit(repeat_customers, params):
    best = gamma_gamma.log_likelihood(params, *repeat_customers)
    assert best == pytest.approx(params.log_likelihood)
    for name in NAMES:
        for factor in (0.99, 1.01):
            moved = gamma_gamma.GammaGammaParams(
                **{k: getattr(params, k) * (factor if k == name else 1) for k in NAMES}
            )
            assert gamma_gamma.log_likelihood(moved, *repeat_customers) < best


def test_weights_equal_duplicated_rows(repeat_customers):
    x, m = repeat_customers[0][:300], repeat_customers[1][:300]
    weights = np.arange(300) % 4 + 1
    weighted = gamma_gamma.fit(x, m, weights=weights)
    repeated = gamma_gamma.fit(np.repeat(x, weights), np.repeat(m, weights))
    for name in NAMES:
        assert getattr(weighted, name) == pytest.approx(getattr(repeated, name), rel=1e-5)
    assert weighted.log_likelihood == pytest.approx(repeated.log_likelihood, rel=1e-10)


def test_expected_value_shrinks_toward_the_population_mean(params):
    mean = gamma_gamma.population_mean_value(params)
    assert mean == pytest.approx(params.p * params.v / (params.q - 1))
    one_purchase, many = gamma_gamma.conditional_expected_value(
        params, [1, 50], [mean * 3, mean * 3]
    )
    # p (v + x m) / (p x + q - 1): a weighted mean of the population's and the customer's.
    p, q, v = params.p, params.q, params.v
    assert one_purchase == pytest.approx(p * (v + 3 * mean) / (p + q - 1), rel=1e-12)
    assert many == pytest.approx(p * (v + 50 * 3 * mean) / (50 * p + q - 1), rel=1e-12)
    assert mean < one_purchase < many < mean * 3
    # No repeat purchase: the population mean, whatever (even NaN) is passed.
    values = gamma_gamma.conditional_expected_value(params, [0, 0], [999.0, np.nan])
    np.testing.assert_allclose(values, mean)


def test_q_at_most_one_has_no_mean():
    params = gamma_gamma.GammaGammaParams(6.0, 0.9, 15.0)
    with pytest.raises(ArithmeticError, match="q above 1"):
        gamma_gamma.population_mean_value(params)
    with pytest.raises(ArithmeticError, match="q above 1"):
        gamma_gamma.conditional_expected_value(params, [1], [10.0])


def test_correlation_check(repeat_customers):
    x, m = repeat_customers
    correlation = gamma_gamma.frequency_value_correlation(x, m)
    assert round(correlation, 2) == PUBLISHED_CORRELATION
    assert correlation == pytest.approx(np.corrcoef(x, m)[0, 1])
    assert gamma_gamma.frequency_value_correlation([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert gamma_gamma.frequency_value_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert gamma_gamma.frequency_value_correlation([1], [1]) == 0.0
    assert gamma_gamma.frequency_value_correlation([1, 2], [5, 5]) == 0.0


@pytest.mark.parametrize(
    "frequency, monetary, message",
    [
        ([], [], "repeat purchases"),
        ([0, 1], [5, 5], "repeat purchases only"),
        ([1, -2], [5, 5], "repeat purchases only"),
        ([1, 2], [5, 0], "positive order values"),
        ([1, 2], [5, np.inf], "positive order values"),
        ([1], [5, 6], "one value per customer"),
    ],
)
def test_invalid_input(frequency, monetary, message):
    with pytest.raises(ValueError, match=message):
        gamma_gamma.fit(frequency, monetary)


def test_invalid_prediction_input(params):
    with pytest.raises(ValueError, match="frequency"):
        gamma_gamma.conditional_expected_value(params, [-1], [5.0])
    with pytest.raises(ValueError, match="one value per customer"):
        gamma_gamma.conditional_expected_value(params, [1, 2], [5.0])
    with pytest.raises(ValueError, match="weights"):
        gamma_gamma.fit([1, 2], [5.0, 6.0], weights=[1, -1])
    with pytest.raises(ValueError, match="penalizer"):
        gamma_gamma.fit([1, 2], [5.0, 6.0], penalizer=-0.1)
