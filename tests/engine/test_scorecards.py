import pytest

from retention_loyalty.engine.scorecards import BonusPlan, scorecards

PLAN = BonusPlan(
    expansion_percent=10.0, per_reactivated=50.0, churn_penalty=100.0, high_value_threshold=500.0
)


def test_plan_is_checked():
    PLAN.validate()
    with pytest.raises(ValueError, match="negative"):
        BonusPlan(per_reactivated=-1).validate()
    with pytest.raises(ValueError, match="100"):
        BonusPlan(expansion_percent=150).validate()


def test_retained_and_expansion_revenue_follow_the_order_salesperson():
    # Customer 10 bought 1,000 last period and 1,600 now: 1,200 with Ann (1),
    # 400 with Bob (2) -> growth 600 shared 3:1. Customer 11 is new: no retention.
    # Customer 12 shrank: retained revenue, no expansion.
    revenue = {(1, 10): 1200.0, (2, 10): 400.0, (1, 11): 300.0, (2, 12): 200.0}
    previous = {10: 1000.0, 12: 500.0}
    cards = scorecards(revenue, previous, [], PLAN)
    ann, bob = cards[1], cards[2]
    assert ann.revenue == 1500.0
    assert ann.retained_revenue == 1200.0 and ann.expansion_revenue == 450.0
    assert bob.retained_revenue == 600.0 and bob.expansion_revenue == 150.0
    assert ann.lines[11].retained_revenue == 0.0 and ann.lines[11].revenue == 300.0
    assert bob.lines[12].expansion_revenue == 0.0
    assert ann.bonus == 45.0 and bob.bonus == 15.0


def test_movements_and_the_bonus():
    movements = [
        (1, 20, True, False, 0.0),
        (1, 20, True, False, 0.0),  # two months of one customer count once
        (1, 21, False, True, 800.0),  # high value
        (1, 22, False, True, 100.0),
        (1, 23, False, False, 0.0),  # nothing happened
    ]
    card = scorecards({}, {}, movements, PLAN)[1]
    assert card.reactivated_count == 1
    assert card.churned_count == 2 and card.high_value_churned_count == 1
    assert card.revenue_lost == 900.0
    assert (card.bonus_reactivation, card.churn_penalty) == (50.0, 100.0)
    assert card.bonus == 0.0  # 50 - 100 is floored at zero
    assert set(card.lines) == {20, 21, 22}


def test_refunds_do_not_inflate_expansion():
    revenue = {(1, 10): 900.0, (2, 10): -100.0}
    card = scorecards(revenue, {10: 500.0}, [], PLAN)
    # Net 800 against 500: growth 300, all of it Ann's; Bob's refund lowers his retained revenue.
    assert card[1].expansion_revenue == 300.0
    assert card[2].expansion_revenue == 0.0 and card[2].retained_revenue == -100.0


def test_no_data_gives_no_scorecards():
    assert scorecards({}, {}, [], PLAN) == {}
