import itertools
import math
from datetime import date, timedelta

import cdnow
import numpy as np
import pytest
from scipy import special

from retention_loyalty.engine import bgnbd, customer_scoring
from retention_loyalty.engine.customer_scoring import (
    PurchaseSummary,
    ScoringSettings,
    fit,
    holdout_quality,
    score,
)
from retention_loyalty.engine.demo_history import generate_demo_history

END = date(2026, 6, 30)


def bgnbd_expected_purchases(params, t, x, t_x, t_age):
    """E[Y(t) | x, t_x, T], equation (10) of Fader, Hardie & Lee (2005), written out:
    (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
    / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if_alive = (
        (a + b + x - 1)
        / (a - 1)
        * (
            1
            - ((alpha + t_age) / (alpha + t_age + t)) ** (r + x)
            * special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + t_age + t))
        )
    )
    odds = np.where(
        x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + t_age) / (alpha + t_x)) ** (r + x), 0.0
    )
    return if_alive / (1 + odds)


def summary_from_orders(orders_by_customer, end, amounts=None):
    """Build the summary the SQL of the Odoo layer would return."""
    rows = []
    for pid, days in orders_by_customer.items():
        days = sorted(set(days))
        amount = (amounts or {}).get(pid, 50.0)
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        rows.append(
            (
                pid,
                days[0],
                days[-1],
                len(days),
                len(days),
                amount * len(days),
                amount * sum(d > end - timedelta(days=365) for d in days),
                float(np.mean(gaps)) if gaps else None,
                float(np.median(gaps)) if gaps else None,
                amount if gaps else None,
                amount,
                float(gaps[0]) if gaps else None,
            )
        )
    return PurchaseSummary.from_rows(rows, end)


def demo_summary(n_customers=300, end=END):
    history = generate_demo_history(seed=5, n_customers=n_customers, today=end)
    orders = {}
    for order in history.orders:
        orders.setdefault(int(order.customer_key), []).append(order.order_date)
    return summary_from_orders(orders, end), history


def test_summary_arrays():
    summary = summary_from_orders(
        {1: [date(2026, 1, 1), date(2026, 3, 1), date(2026, 3, 1)], 2: [date(2026, 6, 1)]}, END
    )
    assert summary.size == 2
    assert summary.frequency.tolist() == [1, 0]
    assert summary.recency_days.tolist() == [59.0, 0.0]
    assert summary.days_since_last.tolist() == [121, 29]
    assert np.isnan(summary.median_gap_days[1])
    both = PurchaseSummary.concat(summary, PurchaseSummary.empty(END))
    assert both.partner_ids.tolist() == [1, 2]
    with pytest.raises(ValueError, match="different dates"):
        PurchaseSummary.concat(summary, PurchaseSummary.empty(END + timedelta(days=1)))


def test_demo_base_uses_the_model_and_ranks_rhythms():
    summary, history = demo_summary()
    fitted = fit(summary, ScoringSettings())
    assert fitted.method == "bgnbd", fitted.note
    result = score(summary, fitted, ScoringSettings())
    rhythm = np.array([history.customers[int(pid)].rhythm for pid in summary.partner_ids])
    assert np.all((result.p_alive >= 0) & (result.p_alive <= 1))
    assert np.all(result.clv >= 0) and np.all(np.isfinite(result.clv))
    assert np.all(result.value_at_stake >= 0)
    # Lapsed customers look far riskier than loyal ones.
    assert result.p_alive[rhythm == "lapsed"].mean() < result.p_alive[rhythm == "loyal"].mean()
    risk_lapsed = result.risk_index[rhythm == "lapsed"].mean()
    assert risk_lapsed > result.risk_index[rhythm == "loyal"].mean()
    assert np.mean(result.risk_index[rhythm == "lapsed"] >= 2) > 0.8
    # BG/NBD gives one-order customers P(alive) 1; the rhythm (days since
    # their order against the typical second-order gap) does not.
    one_off = rhythm == "one_off"
    assert np.all(result.p_alive[one_off] < 1.0)
    assert result.risk_index[one_off].mean() > 1
    assert result.clv[rhythm == "loyal"].mean() > result.clv[rhythm == "lapsed"].mean()
    assert result.expected_orders[rhythm == "loyal"].mean() > 3
    dates = result.next_order_dates(END)
    assert all(d is None or d >= END for d in dates)
    likely_gone = result.p_alive < 0.5
    assert likely_gone.any()
    assert all(dates[i] is None for i in np.flatnonzero(likely_gone))


def test_clv_matches_lifetimes_on_cdnow():
    lifetimes = pytest.importorskip("lifetimes")
    pd = pytest.importorskip("pandas")
    data = cdnow.summary_with_values()
    # CDNOW counts weeks: whole days here, so that the scoring turns them back into weeks.
    end = date(1998, 6, 30)
    n = data["x"].size
    age_days = np.round(data["T"] * 7).astype(np.int64)
    recency_days = np.round(data["t_x"] * 7).astype(np.int64)
    summary = PurchaseSummary(
        end=end,
        partner_ids=np.arange(n),
        first_day=end.toordinal() - age_days,
        last_day=end.toordinal() - age_days + recency_days,
        order_count=data["x"].astype(np.int64) + 1,
        frequency=data["x"].astype(np.int64),
        revenue_total=np.zeros(n),
        revenue_12m=np.zeros(n),
        mean_gap_days=np.full(n, np.nan),
        median_gap_days=np.full(n, np.nan),
        repeat_order_value=np.where(data["x"] > 0, data["zbar"], np.nan),
        average_order_value=data["zbar"],
        second_purchase_gap_days=np.full(n, np.nan),
    )
    settings = ScoringSettings(horizon_months=12, monthly_discount_rate=0.01)
    fitted = fit(summary, settings)
    assert fitted.method == "bgnbd"
    result = score(summary, fitted, settings)
    # lifetimes sums the lifetime value over months of 4.345 time units: in
    # units of (365.25 / 12) / 4.345 days its months are ours. BG/NBD does not
    # depend on the time unit when alpha is rescaled with the times.
    unit_days = customer_scoring.DAYS_PER_MONTH / 4.345
    bg = lifetimes.BetaGeoFitter()
    bg.params_ = pd.Series(
        {
            "r": fitted.bgnbd_params.r,
            "alpha": fitted.bgnbd_params.alpha * 7 / unit_days,
            "a": fitted.bgnbd_params.a,
            "b": fitted.bgnbd_params.b,
        }
    )
    bg.predict = bg.conditional_expected_number_of_purchases_up_to_time  # set by fit()
    gg = lifetimes.GammaGammaFitter()
    gg.params_ = pd.Series({k: getattr(fitted.gamma_params, k) for k in ("p", "q", "v")})
    expected = gg.customer_lifetime_value(
        bg,
        pd.Series(data["x"]),
        pd.Series(recency_days / unit_days),
        pd.Series(age_days / unit_days),
        pd.Series(np.where(data["x"] > 0, data["zbar"], 0.0)),
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    # The model's lifetime value is the value if they stay times the model's
    # P(alive); the shown one uses the lower of it and the rhythm's.
    x, t_x, t_age = data["x"], recency_days / 7, age_days / 7
    model_p_alive = bgnbd.p_alive(fitted.bgnbd_params, x, t_x, t_age)
    np.testing.assert_allclose(
        result.value_if_retained * model_p_alive, expected.to_numpy(), rtol=1e-8
    )
    assert np.all(result.clv <= result.value_if_retained * model_p_alive * (1 + 1e-12))


def test_few_repeat_customers_fall_back_to_the_rhythm_heuristic():
    summary = summary_from_orders(
        {
            1: [END - timedelta(days=d) for d in (10, 40, 70)],
            2: [END - timedelta(days=d) for d in (200, 230, 260)],
            3: [END - timedelta(days=5)],
            4: [END - timedelta(days=400)],
            5: [END, END],  # two orders on one day are one purchase
        },
        END,
    )
    settings = ScoringSettings()
    fitted = fit(summary, settings)
    assert fitted.method == "heuristic"
    assert fitted.note.startswith("2 customers with a repeat purchase, fewer than the 30 ")
    assert fitted.typical_gap_days == 30.0  # both repeat customers buy every 30 days
    result = score(summary, fitted, settings)
    assert result.method == "heuristic"
    # By hand: each customer's gap is their own median gap or the typical 30
    # days; overdue = days since the last purchase / gap; P(alive) = 1 until
    # the gap has passed, exp(-(overdue - 1)) after.
    days_since = np.array([10, 200, 5, 400, 0])
    overdue = days_since / 30
    np.testing.assert_allclose(result.overdue, overdue, rtol=1e-15)
    p_alive = np.exp(-np.maximum(overdue - 1, 0))
    np.testing.assert_allclose(result.p_alive, [1, math.exp(-17 / 3), 1, math.exp(-37 / 3), 1])
    np.testing.assert_allclose(result.p_alive, p_alive, rtol=1e-15)
    # While alive, one purchase of 50 every 30 days: over 12 months of
    # 365.25 / 12 days, discounted by 1 % a month.
    per_month = 365.25 / 12 / 30
    discounted_months = sum(1.01**-month for month in range(1, 13))
    np.testing.assert_allclose(result.expected_orders, p_alive * per_month * 12, rtol=1e-12)
    np.testing.assert_allclose(result.expected_order_value, 50.0)
    if_alive = per_month * 50.0 * discounted_months
    np.testing.assert_allclose(result.clv, p_alive * if_alive, rtol=1e-12)
    np.testing.assert_allclose(result.value_at_stake, (1 - p_alive) * if_alive, rtol=1e-12)
    # Next purchase one gap after the last; none for the two who have likely left.
    np.testing.assert_array_equal(result.next_order_days, [20, np.nan, 25, np.nan, 30])
    assert result.risk_index.tolist() == [0, 3, 0, 3, 0]


def test_failed_fit_falls_back_with_its_reason(monkeypatch):
    summary, _history = demo_summary(120)

    def broken(*args, **kwargs):
        raise ArithmeticError("no convergence")

    monkeypatch.setattr(bgnbd, "fit", broken)
    fitted = fit(summary, ScoringSettings())
    assert fitted.method == "heuristic"
    assert "no convergence" in fitted.note


def test_holdout_quality_is_readable():
    history = generate_demo_history(seed=9, n_customers=300, today=END)
    cutoff = END - timedelta(days=180)
    before, after = {}, {}
    for order in history.orders:
        target = before if order.order_date <= cutoff else after
        target.setdefault(int(order.customer_key), set()).add(order.order_date)
    calibration = summary_from_orders({k: list(v) for k, v in before.items()}, cutoff)
    actual = np.array([len(after.get(int(pid), ())) for pid in calibration.partner_ids])
    settings = ScoringSettings()
    quality = holdout_quality(calibration, actual, 180, settings)
    fitted = fit(calibration, settings)
    assert fitted.method == "bgnbd"
    # The prediction by hand: BG/NBD's expected purchases in the next 180
    # days of each customer, in weeks from their own purchase days.
    purchase_days = [sorted(before[int(pid)]) for pid in calibration.partner_ids]
    x = np.array([len(days) - 1 for days in purchase_days], dtype=float)
    t_x = np.array([(days[-1] - days[0]).days / 7 for days in purchase_days])
    t_age = np.array([(cutoff - days[0]).days / 7 for days in purchase_days])
    predicted = bgnbd_expected_purchases(fitted.bgnbd_params, 180 / 7, x, t_x, t_age)
    assert quality.customers == calibration.size == len(before) == 247  # 53 came later
    assert quality.actual == actual.sum()
    assert quality.predicted == pytest.approx(predicted.sum(), rel=1e-9)
    assert quality.ratio == pytest.approx(predicted.sum() / actual.sum(), rel=1e-9)
    assert quality.mean_absolute_error == pytest.approx(np.abs(predicted - actual).mean(), rel=1e-9)
    # The demo rhythms change over time on purpose: the model, fitted on the
    # first 18 months, expects a quarter more purchases than the last 6 bring.
    assert quality.ratio == pytest.approx(1.2568, abs=1e-4)


def test_empty_summary_scores_nothing():
    empty = PurchaseSummary.empty(END)
    fitted = fit(empty, ScoringSettings())
    assert fitted.method == "heuristic"
    result = score(empty, fitted, ScoringSettings())
    assert result.p_alive.size == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_months": 0}, "horizon must be 1 to 120 months"),
        ({"horizon_months": 121}, "horizon must be 1 to 120 months"),
        ({"monthly_discount_rate": -0.1}, "discount rate must be between 0 and 1"),
        ({"monthly_discount_rate": 1.0}, "discount rate must be between 0 and 1"),
        ({"min_repeat_customers": 1}, "at least 2 repeat customers"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScoringSettings(**kwargs).validate()


def test_holdout_check_on_cdnow():
    """Fit on weeks 1-39 of the CDNOW sample, predict weeks 40-78."""
    customers, days, _amounts = cdnow.transactions()
    calibration_end, observation_end = cdnow.CALIBRATION_END, cdnow.OBSERVATION_END
    before, after = {}, {}
    for customer, day in zip(customers.tolist(), days.tolist(), strict=True):
        if day <= calibration_end.toordinal():
            before.setdefault(customer, set()).add(date.fromordinal(day))
        elif day <= observation_end.toordinal():
            after.setdefault(customer, set()).add(day)
    calibration = summary_from_orders(before, calibration_end)
    actual = [len(after.get(int(pid), ())) for pid in calibration.partner_ids]
    window = (observation_end - calibration_end).days
    quality = holdout_quality(calibration, actual, window, ScoringSettings())
    assert quality.customers == 2357
    assert quality.actual == 1882
    # The BG/NBD paper's model under-forecasts this period slightly as well.
    assert quality.ratio == pytest.approx(0.879, abs=0.01)
    assert quality.mean_absolute_error < 1.0


def test_non_positive_margins_keep_their_own_value():
    """Customers valued in margin: Gamma-Gamma is fitted on positive averages
    only, and customers without a positive average keep it (never the
    population's positive mean), so their lifetime value stays at or below 0."""
    history, _ = demo_summary(300)
    days = {
        9001: [END - timedelta(days=d) for d in (200, 140, 80, 20)],  # repeat, loses 15
        9002: [END - timedelta(days=d) for d in (150, 90, 30)],  # repeat, margin 0
        9003: [END - timedelta(days=40)],  # one order, loses 8
    }
    losers = summary_from_orders(days, END, amounts={9001: -15.0, 9002: 0.0, 9003: -8.0})
    summary = PurchaseSummary.concat(history, losers)
    settings = ScoringSettings()
    fitted = fit(summary, settings)
    assert fitted.method == "bgnbd"
    assert "2 repeat customers without a positive average order value" in fitted.note
    result = score(summary, fitted, settings)
    own = dict(zip(summary.partner_ids.tolist(), result.expected_order_value.tolist(), strict=True))
    assert own[9001] == -15.0
    assert own[9002] == 0.0
    assert own[9003] == -8.0
    tail = slice(history.size, None)
    assert np.all(result.clv[tail] <= 0.0)
    assert np.all(result.value_at_stake[tail] <= 0.0)
    assert np.all(result.expected_order_value[: history.size] > 0.0)
    # The heuristic keeps negative averages too.
    heuristic = score(
        losers, fit(losers, ScoringSettings(min_repeat_customers=100)), ScoringSettings()
    )
    assert heuristic.expected_order_value.tolist()[0] == -15.0
    assert heuristic.clv[0] < 0.0
