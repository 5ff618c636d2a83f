import cdnow
import numpy as np
import pytest

from retention_loyalty.engine import bgnbd, clv, gamma_gamma

# lifetimes counts 4.345 weeks a month (freq="W").
LIFETIMES_WEEKS_PER_MONTH = 4.345


@pytest.fixture(scope="module")
def data():
    return cdnow.summary_with_values()


@pytest.fixture(scope="module")
def oracles(data):
    lifetimes = pytest.importorskip("lifetimes")
    pytest.importorskip("pandas")
    purchases = lifetimes.BetaGeoFitter().fit(data["x"], data["t_x"], data["T"])
    repeat = data["x"] > 0
    values = lifetimes.GammaGammaFitter().fit(data["x"][repeat], data["zbar"][repeat])
    return purchases, values


@pytest.fixture(scope="module")
def holdout():
    return cdnow.calibration_and_holdout()


def same_params(oracles):
    purchases, values = oracles
    return (
        bgnbd.BgNbdParams(*(float(purchases.params_[k]) for k in ("r", "alpha", "a", "b"))),
        gamma_gamma.GammaGammaParams(*(float(values.params_[k]) for k in ("p", "q", "v"))),
    )


def lifetimes_clv(oracles, data, months, rate):
    import pandas as pd  # noqa: PLC0415 (test oracle only)

    purchases, values = oracles
    series = {key: pd.Series(data[key]) for key in ("x", "t_x", "T", "zbar")}
    result = values.customer_lifetime_value(
        purchases,
        series["x"],
        series["t_x"],
        series["T"],
        series["zbar"],
        time=months,
        discount_rate=rate,
        freq="W",
    )
    return result.to_numpy()


@pytest.mark.parametrize("months, rate", [(12, 0.01), (6, 0.05), (36, 0.0)])
def test_lifetime_value_agrees_with_lifetimes(data, oracles, months, rate):
    purchase_params, value_params = same_params(oracles)
    value = clv.customer_lifetime_value(
        purchase_params,
        value_params,
        data["x"],
        data["t_x"],
        data["T"],
        data["zbar"],
        periods_per_month=LIFETIMES_WEEKS_PER_MONTH,
        horizon_months=months,
        monthly_discount_rate=rate,
    )
    expected = lifetimes_clv(oracles, data, months, rate)
    assert value.shape == (2357,)
    np.testing.assert_allclose(value, expected, rtol=1e-8)


def test_lifetime_value_with_own_fits_agrees_with_lifetimes(data, oracles):
    # Own fits end to end: parameters agree to about 1e-7, values to 1e-5.
    repeat = data["x"] > 0
    purchase_model = clv.fit_or_fallback(data["x"], data["t_x"], data["T"])
    value_params = gamma_gamma.fit(data["x"][repeat], data["zbar"][repeat])
    value = clv.customer_lifetime_value(
        purchase_model,
        value_params,
        data["x"],
        data["t_x"],
        data["T"],
        data["zbar"],
        periods_per_month=LIFETIMES_WEEKS_PER_MONTH,
    )
    np.testing.assert_allclose(value, lifetimes_clv(oracles, data, 12, 0.01), rtol=1e-5)


def test_undiscounted_purchases_telescope(data, oracles):
    params, _values = same_params(oracles)
    x, t_x, t_age = data["x"], data["t_x"], data["T"]
    undiscounted = clv.discounted_expected_purchases(
        params, x, t_x, t_age, periods_per_month=clv.WEEKS_PER_MONTH, monthly_discount_rate=0.0
    )
    np.testing.assert_allclose(
        undiscounted,
        bgnbd.conditional_expected_purchases(params, 12 * clv.WEEKS_PER_MONTH, x, t_x, t_age),
        rtol=1e-12,
    )
    discounted = clv.discounted_expected_purchases(
        params, x, t_x, t_age, periods_per_month=clv.WEEKS_PER_MONTH, monthly_discount_rate=0.02
    )
    assert np.all(discounted < undiscounted)
    assert np.all(discounted > undiscounted / 1.02**12)


def test_time_unit_conversion_is_consistent(data, oracles):
    # The same customers in days with alpha in days give the same value.
    params, value_params = same_params(oracles)
    in_days = bgnbd.BgNbdParams(params.r, params.alpha * 7, params.a, params.b)
    weekly = clv.customer_lifetime_value(
        params, value_params, data["x"], data["t_x"], data["T"], data["zbar"],
        periods_per_month=clv.WEEKS_PER_MONTH,
    )  # fmt: skip
    daily = clv.customer_lifetime_value(
        in_days, value_params, data["x"], data["t_x"] * 7, data["T"] * 7, data["zbar"],
        periods_per_month=clv.DAYS_PER_MONTH,
    )  # fmt: skip
    np.testing.assert_allclose(daily, weekly, rtol=1e-9)


def test_model_is_fitted_when_data_suffice(data):
    model = clv.fit_or_fallback(data["x"], data["t_x"], data["T"])
    assert model.method == "bgnbd"
    assert "2357 customers, 946 with repeat purchases" in model.reason
    direct = bgnbd.fit(data["x"], data["t_x"], data["T"])
    assert model.params == direct
    np.testing.assert_array_equal(
        model.p_alive(data["x"], data["t_x"], data["T"]),
        bgnbd.p_alive(direct, data["x"], data["t_x"], data["T"]),
    )
    repeat = data["x"] > 0
    assert model.typical_gap == pytest.approx(np.median(data["t_x"][repeat] / data["x"][repeat]))


# Five customers in weeks: (x, t_x, T). Repeat customers' mean gaps 10, 5, 8:
# typical gap 8. Usual gaps (t_x + 8) / (x + 1): 9.5, 6, 8, 8, 8.
FEW = {
    "x": [3.0, 2.0, 0.0, 0.0, 1.0],
    "t_x": [30.0, 10.0, 0.0, 0.0, 8.0],
    "T": [32.0, 60.0, 4.0, 100.0, 9.0],
}
FEW_USUAL_GAPS = np.array([9.5, 6.0, 8.0, 8.0, 8.0])
FEW_P_ALIVE = np.array([1.0, np.exp(-(50 / 6 - 1)), 1.0, np.exp(-(100 / 8 - 1)), 1.0])


def test_few_customers_fall_back_to_the_rhythm_heuristic():
    model = clv.fit_or_fallback(FEW["x"], FEW["t_x"], FEW["T"])
    assert model.method == "heuristic"
    assert model.params is None
    assert "3 customers with a repeat purchase, fewer than the 20" in model.reason
    assert model.typical_gap == 8.0
    np.testing.assert_allclose(model.usual_gaps(FEW["x"], FEW["t_x"], FEW["T"]), FEW_USUAL_GAPS)
    p_alive = model.p_alive(FEW["x"], FEW["t_x"], FEW["T"])
    np.testing.assert_allclose(p_alive, FEW_P_ALIVE, rtol=1e-12)
    assert np.all(p_alive > 0)
    expected = model.conditional_expected_purchases(52.0, FEW["x"], FEW["t_x"], FEW["T"])
    np.testing.assert_allclose(expected, FEW_P_ALIVE * 52.0 / FEW_USUAL_GAPS, rtol=1e-12)
    # The lifetime value works the same way with the heuristic.
    value = clv.customer_lifetime_value(
        model, None, FEW["x"], FEW["t_x"], FEW["T"], np.full(5, 40.0),
        periods_per_month=clv.WEEKS_PER_MONTH, monthly_discount_rate=0.0,
    )  # fmt: skip
    np.testing.assert_allclose(value, 40.0 * FEW_P_ALIVE * 52.18 / FEW_USUAL_GAPS, rtol=1e-3)


def test_threshold_counts_weights_and_is_configurable():
    model = clv.fit_or_fallback(FEW["x"], FEW["t_x"], FEW["T"], min_repeat_customers=3)
    assert model.method != "heuristic" or "fewer than" not in model.reason
    weighted = clv.fit_or_fallback(
        FEW["x"], FEW["t_x"], FEW["T"], weights=[10, 10, 1, 1, 1], min_repeat_customers=20
    )
    assert "fewer than" not in weighted.reason


def test_no_repeat_customer_uses_the_default_gap():
    model = clv.fit_or_fallback([0, 0], [0, 0], [5, 30], default_gap=10.0)
    assert model.method == "heuristic" and model.typical_gap == 10.0
    np.testing.assert_allclose(model.p_alive([0, 0], [0, 0], [5, 30]), [1.0, np.exp(-2.0)])
    assert clv.fit_or_fallback([0], [0], [5]).typical_gap == 1.0
    with pytest.raises(ValueError, match="default gap"):
        clv.fit_or_fallback([0], [0], [5], default_gap=0)


def test_failed_fit_falls_back_with_its_reason(data, monkeypatch):
    def broken(*args, **kwargs):
        raise ArithmeticError("no finite parameters")

    monkeypatch.setattr(bgnbd, "fit", broken)
    model = clv.fit_or_fallback(data["x"], data["t_x"], data["T"])
    assert model.method == "heuristic"
    assert "no finite parameters" in model.reason


def test_unconverged_fit_falls_back(data, monkeypatch):
    def unconverged(*args, **kwargs):
        return bgnbd.BgNbdParams(0.2, 4.0, 0.8, 2.4, converged=False, message="ABNORMAL")

    monkeypatch.setattr(bgnbd, "fit", unconverged)
    model = clv.fit_or_fallback(data["x"], data["t_x"], data["T"])
    assert model.method == "heuristic"
    assert "did not converge (ABNORMAL)" in model.reason


def test_holdout_data_match_the_published_summary(holdout):
    # The calibration half rebuilt from the transactions is the shipped summary.
    summary = cdnow.summary()
    np.testing.assert_array_equal(holdout["frequency"], summary["frequency"])
    np.testing.assert_allclose(holdout["recency"], summary["recency"], atol=0.005)
    np.testing.assert_allclose(holdout["T"], summary["T"], atol=0.005)
    assert holdout["holdout_weeks"] == 39.0


def test_holdout_check_on_cdnow(holdout, oracles):
    purchases, _values = oracles
    x, t_x, t_age = holdout["frequency"], holdout["recency"], holdout["T"]
    actual = holdout["holdout_frequency"]
    model = clv.fit_or_fallback(x, t_x, t_age)
    check = clv.holdout_check(model, x, t_x, t_age, actual, 39.0)
    # Against lifetimes' predictions, grouped as its calibration plot does.
    predicted = purchases.conditional_expected_number_of_purchases_up_to_time(39.0, x, t_x, t_age)
    assert check.method == "bgnbd" and check.customers == 2357
    assert check.actual_total == actual.sum()
    assert check.predicted_total == pytest.approx(predicted.sum(), rel=1e-5)
    assert check.ratio == pytest.approx(predicted.sum() / actual.sum(), rel=1e-5)
    assert check.mean_absolute_error == pytest.approx(np.mean(np.abs(predicted - actual)), rel=1e-4)
    assert [bucket.frequency for bucket in check.buckets] == list(range(8))
    assert sum(bucket.customers for bucket in check.buckets) == 2357
    for bucket in check.buckets:
        members = x == bucket.frequency if bucket.frequency < 7 else x >= 7
        assert bucket.customers == members.sum()
        assert bucket.predicted_mean == pytest.approx(predicted[members].mean(), rel=1e-5)
        assert bucket.actual_mean == pytest.approx(actual[members].mean())
    # The model tracks the holdout: within 15 % in total, ranks buckets right.
    assert 0.85 < check.ratio < 1.0
    means = [bucket.predicted_mean for bucket in check.buckets]
    assert means == sorted(means)


def test_holdout_check_with_the_heuristic():
    actual = [5, 0, 1, 0, 6]
    model = clv.fit_or_fallback(FEW["x"], FEW["t_x"], FEW["T"])
    check = clv.holdout_check(model, FEW["x"], FEW["t_x"], FEW["T"], actual, 52.0, max_frequency=2)
    predicted = FEW_P_ALIVE * 52.0 / FEW_USUAL_GAPS
    assert check.method == "heuristic"
    assert check.predicted_total == pytest.approx(predicted.sum())
    assert check.ratio == pytest.approx(predicted.sum() / 12)
    assert check.mean_absolute_error == pytest.approx(np.mean(np.abs(predicted - actual)))
    assert [(b.frequency, b.customers) for b in check.buckets] == [(0, 2), (1, 1), (2, 2)]
    assert check.buckets[2].actual_mean == 2.5
    no_purchase = clv.holdout_check(model, FEW["x"], FEW["t_x"], FEW["T"], [0] * 5, 52.0)
    assert np.isnan(no_purchase.ratio)


def test_empty_input():
    params = bgnbd.BgNbdParams(0.24, 4.4, 0.79, 2.4)
    values = gamma_gamma.GammaGammaParams(6.25, 3.74, 15.44)
    empty = np.zeros(0)
    value = clv.customer_lifetime_value(
        params, values, empty, empty, empty, empty, periods_per_month=clv.WEEKS_PER_MONTH
    )
    assert value.size == 0
    model = clv.fit_or_fallback(empty, empty, empty)
    assert model.method == "heuristic"
    assert model.p_alive(empty, empty, empty).size == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"periods_per_month": 0}, "periods_per_month"),
        ({"periods_per_month": 4.3, "horizon_months": 0}, "whole number of months"),
        ({"periods_per_month": 4.3, "horizon_months": 1.5}, "whole number of months"),
        ({"periods_per_month": 4.3, "monthly_discount_rate": -0.1}, "discount rate"),
    ],
)
def test_invalid_lifetime_value_settings(kwargs, message):
    params = bgnbd.BgNbdParams(0.24, 4.4, 0.79, 2.4)
    with pytest.raises(ValueError, match=message):
        clv.discounted_expected_purchases(params, [1], [2], [3], **kwargs)


def test_invalid_inputs():
    params = bgnbd.BgNbdParams(0.24, 4.4, 0.79, 2.4)
    with pytest.raises(ValueError, match="after the age"):
        clv.fit_or_fallback([1], [5], [3])
    with pytest.raises(ValueError, match="negative"):
        clv.fit_or_fallback([1, 2], [1, 2], [3, 3], weights=[1, -1])
    with pytest.raises(ValueError, match="actual purchases"):
        clv.holdout_check(params, [1], [2], [3], [1, 2], 10.0)
    with pytest.raises(ValueError, match="holdout length"):
        clv.holdout_check(params, [1], [2], [3], [1], 0.0)
    with pytest.raises(TypeError):
        clv.discounted_expected_purchases((0.2, 4, 0.8, 2.4), [1], [2], [3], periods_per_month=4)
