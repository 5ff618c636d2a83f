import cdnow
import numpy as np
import pytest

from retention_loyalty.engine import gamma_gamma

# Fader, Hardie & Lee (2005), "RFM and CLV", on the CDNOW repeat customers.
PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def repeat_customers():
    data = cdnow.summary_with_values()
    repeat = data["x"] > 0
    return data["x"][repeat], data["zbar"][repeat]


@pytest.fixture(scope="module")
def params(repeat_customers):
    return gamma_gamma.fit(*repeat_customers)


def test_reproduces_the_published_estimates(params):
    assert params.converged
    for name, value in PUBLISHED.items():
        assert getattr(params, name) == pytest.approx(value, abs=0.01), name


def test_agrees_with_lifetimes(repeat_customers, params):
    lifetimes = pytest.importorskip("lifetimes")
    oracle = lifetimes.GammaGammaFitter().fit(*repeat_customers)
    for name in ("p", "q", "v"):
        assert getattr(params, name) == pytest.approx(oracle.params_[name], rel=1e-3)
    same = gamma_gamma.GammaGammaParams(*(oracle.params_[name] for name in ("p", "q", "v")))
    data = cdnow.summary_with_values()
    np.testing.assert_allclose(
        gamma_gamma.conditional_expected_value(same, data["x"], data["zbar"]),
        oracle.conditional_expected_average_profit(data["x"], data["zbar"]),
        rtol=1e-9,
    )


def test_expected_value_shrinks_toward_the_population_mean(params):
    mean = gamma_gamma.population_mean_value(params)
    one_purchase, many = gamma_gamma.conditional_expected_value(
        params, [1, 50], [mean * 3, mean * 3]
    )
    assert mean < one_purchase < many < mean * 3
    assert gamma_gamma.conditional_expected_value(params, [0], [999.0])[0] == pytest.approx(mean)


def test_correlation_check(repeat_customers):
    x, m = repeat_customers
    assert abs(gamma_gamma.frequency_value_correlation(x, m)) < 0.3
    assert gamma_gamma.frequency_value_correlation([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert gamma_gamma.frequency_value_correlation([1], [1]) == 0.0


@pytest.mark.parametrize(
    "frequency, monetary", [([], []), ([0, 1], [5, 5]), ([1, 2], [5, 0]), ([1], [5, 6])]
)
def test_invalid_input(frequency, monetary):
    with pytest.raises(ValueError):
        gamma_gamma.fit(frequency, monetary)
