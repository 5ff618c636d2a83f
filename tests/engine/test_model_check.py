"""The calibration table and holdout correlation of Fader, Hardie & Lee (2005),
"Counting your customers the easy way", section 4, on their CDNOW sample:
BG/NBD fitted on weeks 1-39, predicting the repeat purchases of weeks 40-78."""

from datetime import date

import cdnow
import numpy as np
import pytest
from test_customer_scoring import summary_from_orders

from retention_loyalty.engine import bgnbd, customer_scoring
from retention_loyalty.engine.customer_scoring import (
    ScoringSettings,
    calibration_table,
    holdout_correlation,
    holdout_quality,
)

# Customers per calibration-period repeat purchases 0, 1, ..., 7+ in the
# 2,357-customer sample (the paper's figure 5 x-axis); they add up to 2,357.
CDNOW_BUCKET_CUSTOMERS = [1411, 439, 214, 100, 62, 38, 29, 64]


@pytest.fixture(scope="module")
def cdnow_holdout():
    data = cdnow.calibration_and_holdout()
    params = bgnbd.fit(data["frequency"], data["recency"], data["T"])
    predicted = bgnbd.conditional_expected_purchases(
        params, data["holdout_weeks"], data["frequency"], data["recency"], data["T"]
    )
    return data, params, predicted


def test_cdnow_totals_and_correlation_reproduce_the_paper(cdnow_holdout):
    data, params, predicted = cdnow_holdout
    actual = data["holdout_frequency"]
    assert data["holdout_weeks"] == 39
    assert (round(params.r, 3), round(params.alpha, 3)) == (0.243, 4.414)
    # "the BG/NBD predicts 1,653 repeat transactions in weeks 40-78 against
    # 1,882 actual": a model off by one purchase in 1,600 would fail.
    assert actual.sum() == 1882
    assert round(predicted.sum()) == 1653
    assert predicted.sum() == pytest.approx(1653.41, abs=0.05)
    # The per-customer correlation of predicted and actual holdout purchases
    # (the paper reports 0.63).
    correlation = holdout_correlation(actual, predicted)
    assert round(correlation, 2) == 0.63
    assert correlation == pytest.approx(0.62565, abs=5e-5)


def test_cdnow_calibration_table(cdnow_holdout):
    data, _params, predicted = cdnow_holdout
    actual = data["holdout_frequency"]
    table = calibration_table(data["frequency"], actual, predicted)
    assert [b.repeat_purchases for b in table] == list(range(8))
    assert [b.open_ended for b in table] == [False] * 7 + [True]
    assert [b.customers for b in table] == CDNOW_BUCKET_CUSTOMERS
    # Averages recomputed by hand per bucket; the shape of figure 5: the
    # model follows the actual averages up the buckets, a little below them.
    for bucket in table:
        chosen = np.minimum(data["frequency"], 7) == bucket.repeat_purchases
        assert bucket.actual_average == pytest.approx(actual[chosen].mean(), rel=1e-12)
        assert bucket.predicted_average == pytest.approx(predicted[chosen].mean(), rel=1e-12)
    expected_actual = [0.237, 0.697, 1.393, 1.560, 2.532, 2.947, 3.862, 6.359]
    expected_predicted = [0.225, 0.523, 1.044, 1.520, 2.164, 2.654, 3.504, 6.157]
    assert [round(b.actual_average, 3) for b in table] == expected_actual
    assert [round(b.predicted_average, 3) for b in table] == expected_predicted
    # Weighted by customers, the buckets give the totals back.
    assert sum(b.customers * b.predicted_average for b in table) == pytest.approx(predicted.sum())


def test_holdout_quality_carries_the_table_on_cdnow():
    """The Odoo layer's path (purchase days, ``holdout_quality``) gives the
    same table and correlation as the paper's weekly summary."""
    customers, days, _amounts = cdnow.transactions()
    before, after = {}, {}
    for customer, day in zip(customers.tolist(), days.tolist(), strict=True):
        if day <= cdnow.CALIBRATION_END.toordinal():
            before.setdefault(customer, set()).add(date.fromordinal(day))
        elif day <= cdnow.OBSERVATION_END.toordinal():
            after.setdefault(customer, set()).add(day)
    calibration = summary_from_orders(before, cdnow.CALIBRATION_END)
    actual = [len(after.get(int(pid), ())) for pid in calibration.partner_ids]
    quality = holdout_quality(calibration, actual, 273, ScoringSettings())
    assert quality.actual == 1882
    assert round(quality.predicted) == 1653
    assert round(quality.correlation, 2) == 0.63
    assert [b.customers for b in quality.calibration] == CDNOW_BUCKET_CUSTOMERS
    assert quality.calibration[-1].actual_average == pytest.approx(6.359, abs=5e-4)


def test_calibration_table_by_hand():
    frequency = [0, 0, 1, 3, 9, 12]
    actual = [0, 1, 2, 1, 5, 9]
    predicted = [0.2, 0.4, 1.0, 2.5, 6.0, 8.0]
    table = calibration_table(frequency, actual, predicted, top_bucket=3)
    # Bucket 2 has nobody: left out. 9 and 12 go into 3+ with 3.
    assert [(b.repeat_purchases, b.customers) for b in table] == [(0, 2), (1, 1), (3, 3)]
    assert (table[0].actual_average, table[0].predicted_average) == (0.5, pytest.approx(0.3))
    assert table[2].actual_average == pytest.approx(15 / 3)
    assert table[2].predicted_average == pytest.approx(16.5 / 3)
    assert table[2].open_ended and not table[1].open_ended


def test_correlation_edge_cases():
    assert np.isnan(holdout_correlation([1], [2.0]))
    assert np.isnan(holdout_correlation([0, 0, 0], [0.1, 0.2, 0.3]))  # nobody bought
    assert holdout_correlation([0, 1, 2], [0.0, 1.0, 2.0]) == pytest.approx(1.0)
    assert holdout_correlation([0, 1, 2], [2.0, 1.0, 0.0]) == pytest.approx(-1.0)
    assert calibration_table([], [], []) == ()
    with pytest.raises(ValueError, match="one frequency"):
        calibration_table([1, 2], [1], [1.0, 2.0])


def test_heuristic_fallback_also_gets_a_table():
    summary = summary_from_orders(
        {1: [cdnow.CALIBRATION_END]}, cdnow.CALIBRATION_END
    )  # one customer, no repeat buyer: the rhythm fallback runs
    quality = holdout_quality(summary, [1], 90, ScoringSettings())
    assert customer_scoring.fit(summary, ScoringSettings()).method == "heuristic"
    assert [(b.repeat_purchases, b.customers, b.actual_average) for b in quality.calibration] == [
        (0, 1, 1.0)
    ]
    assert np.isnan(quality.correlation)
