"""Risk level, P(alive), value at stake and next order cannot contradict
each other (issue 15): the invariants of readme/USAGE.md, checked on the demo
base and on the customers the issue saw on screen."""

import math
from datetime import timedelta

import numpy as np
from test_customer_scoring import END, demo_summary, summary_from_orders

from retention_loyalty.engine.customer_scoring import (
    PurchaseSummary,
    ScoringSettings,
    fit,
    score,
    typical_second_order_gap_days,
)
from retention_loyalty.engine.segments import RiskThresholds, risk_levels, usual_gap_days

MEDIUM, HIGH = 1, 2


def days_ago(*days):
    return [END - timedelta(days=d) for d in days]


# The customers of the issue, added to the demo base (ids above its own).
SEEN_ON_SCREEN = {
    # "Lost" with P(alive) 98 % and an order 7 days ago: two orders a day apart.
    100001: days_ago(8, 7),
    # 198 days since the last order, usually 52, and an expected order next March.
    100002: days_ago(*range(198 + 8 * 52, 197, -52)),
    # One order long ago: "High", P(alive) 100 %, value at stake 0.
    100003: days_ago(150),
    # One order last week.
    100004: days_ago(6),
}


def scored_demo_base():
    base, _history = demo_summary()
    seen = summary_from_orders(SEEN_ON_SCREEN, END, amounts={100003: 400.0})
    summary = PurchaseSummary.concat(base, seen)
    settings = ScoringSettings()
    fitted = fit(summary, settings)
    assert fitted.method == "bgnbd", fitted.note
    return summary, fitted, score(summary, fitted, settings)


def index_of(summary, partner_id):
    return int(np.flatnonzero(summary.partner_ids == partner_id)[0])


def test_usual_gap_weighs_the_own_rhythm_by_its_number_of_gaps():
    # n gaps of median m: (n m + typical) / (n + 1); one-order customers: the
    # company's typical second-order gap.
    gaps = usual_gap_days(
        gap_count=[1, 9, 0, 3],
        median_gap_days=[1.0, 30.0, np.nan, 20.0],
        typical_gap_days=40.0,
        typical_second_order_gap_days=55.0,
    )
    assert gaps.tolist() == [20.5, 31.0, 55.0, 25.0]


def test_within_the_usual_gap_at_most_medium_and_overdue_at_least_medium():
    # P(alive) and overdue ratio disagreeing both ways.
    levels = risk_levels([0.05, 0.2, 0.99, 0.99, 0.99], [0.5, 1.0, 1.01, 0.2, 5.0])
    assert levels.tolist() == [MEDIUM, MEDIUM, MEDIUM, 0, 3]


def test_typical_second_order_gap_is_the_median_gap_to_the_second_purchase():
    summary = summary_from_orders(
        {
            1: days_ago(100, 90, 10),  # second purchase 10 days after the first
            2: days_ago(300, 200),  # 100
            3: days_ago(60, 30, 0),  # 30
            4: days_ago(5),  # one order: no second purchase
        },
        END,
    )
    assert summary.second_purchase_gap_days[:3].tolist() == [10.0, 100.0, 30.0]
    assert np.isnan(summary.second_purchase_gap_days[3])
    assert typical_second_order_gap_days(summary) == 30.0


def test_the_numbers_on_screen_no_longer_contradict_each_other():
    summary, fitted, result = scored_demo_base()
    thresholds = RiskThresholds()
    overdue = result.overdue > 1.0
    assert overdue.any() and (~overdue).any()

    # Value at stake and lifetime value are two parts of the value if they stay.
    assert np.all(result.value_at_stake <= result.value_if_retained + 1e-9)
    np.testing.assert_allclose(
        result.clv + result.value_at_stake, result.value_if_retained, rtol=1e-12
    )
    np.testing.assert_allclose(result.clv, result.p_alive * result.value_if_retained, rtol=1e-12)

    # Ordered within the usual gap: never High or Lost; past it: at least Medium.
    assert np.all(result.risk_index[~overdue] <= MEDIUM)
    assert np.all(result.risk_index[overdue] >= MEDIUM)
    # High and Lost go with a low chance of buying again, never with 98 %.
    assert np.all(result.p_alive[result.risk_index >= HIGH] < thresholds.medium_p_alive)

    # No next order in the future for an overdue customer: overdue since the
    # day the usual gap ran out instead.
    next_dates = result.next_order_dates(END)
    overdue_since = result.overdue_since_dates(END)
    last = summary.last_dates()
    for i in range(summary.size):
        due = last[i] + timedelta(days=math.ceil(result.usual_gap_days[i]))
        if overdue[i]:
            assert next_dates[i] is None, i
            assert overdue_since[i] == due < END or overdue_since[i] == due == END, i
        else:
            assert overdue_since[i] is None, i
            assert next_dates[i] is None or next_dates[i] == max(due, END), i

    # One-order customers: risk from the days since their order against the
    # typical second-order gap, not P(alive) 100 %; value at stake if they have value.
    once = summary.frequency == 0
    gap = fitted.typical_second_order_gap_days
    np.testing.assert_allclose(result.usual_gap_days[once], gap)
    np.testing.assert_allclose(
        result.p_alive[once],
        np.exp(-np.maximum(summary.days_since_last[once] / gap - 1.0, 0.0)),
        rtol=1e-12,
    )
    late_once = once & overdue
    assert late_once.sum() > 10
    assert np.all(result.p_alive[late_once] < 1.0)
    assert np.all(result.value_at_stake[late_once & (summary.average_order_value > 0)] > 0)


def test_the_customers_seen_on_screen():
    summary, fitted, result = scored_demo_base()
    risk = dict(zip(summary.partner_ids.tolist(), result.risk_index.tolist(), strict=True))
    next_dates = dict(zip(summary.partner_ids.tolist(), result.next_order_dates(END), strict=True))

    # Two orders a day apart, the last a week ago: no rhythm of one day; not at risk.
    quick = index_of(summary, 100001)
    assert result.usual_gap_days[quick] == (1.0 + fitted.typical_gap_days) / 2
    assert risk[100001] == 0

    # 198 days since the last order, usually 52: overdue since, no order next March.
    late = index_of(summary, 100002)
    assert summary.days_since_last[late] == 198
    assert risk[100002] >= HIGH
    assert next_dates[100002] is None
    assert result.overdue_since_dates(END)[late] < END

    # One order 150 days ago, 400 of value: at risk with value at stake.
    once = index_of(summary, 100003)
    assert risk[100003] >= HIGH
    assert result.p_alive[once] < 0.3
    assert result.value_at_stake[once] > 100.0

    # One order six days ago: low risk, due one typical second-order gap later.
    assert risk[100004] == 0
    assert next_dates[100004] == END + timedelta(
        days=math.ceil(fitted.typical_second_order_gap_days - 6)
    )
