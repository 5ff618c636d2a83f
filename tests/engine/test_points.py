import random
from datetime import date

import pytest

from retention_loyalty.engine.points import (
    Lot,
    add_months,
    category_share,
    check_redemption,
    consume,
    due_lots,
    expiry_date,
    fifo_order,
    multiply_points,
    new_lot_remaining,
    redeemable_points,
    reversal_target,
    round_points,
)


def test_rounding_is_half_away_from_zero_and_exact_on_sums():
    assert round_points(0.125) == 0.13
    assert round_points(-0.125) == -0.13
    assert round_points(2.675) == 2.68  # 2.675 is 2.67499... as a binary float
    assert round_points(sum([round_points(0.1)] * 3)) == 0.3


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2026, 3, 31), 12, date(2027, 3, 31)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_expiry_date_without_positive_duration_never_expires():
    assert expiry_date(date(2026, 1, 1), 0) is None
    assert expiry_date(date(2026, 1, 1), -3) is None
    assert expiry_date(date(2026, 1, 1), 6) == date(2026, 7, 1)


def test_fifo_takes_soonest_expiry_first_and_never_expiring_last():
    lots = [
        Lot(1, 10, None),
        Lot(2, 10, date(2027, 5, 1)),
        Lot(3, 10, date(2027, 1, 1)),
        Lot(4, 10, date(2027, 1, 1)),
    ]
    assert [lot.key for lot in fifo_order(lots)] == [3, 4, 2, 1]
    result = consume(lots, 25)
    assert result.taken == {3: 10, 4: 10, 2: 5}
    assert result.shortfall == 0


def test_consume_reports_what_lots_cannot_cover():
    result = consume([Lot(1, 4.5, None)], 10)
    assert result.taken == {1: 4.5}
    assert result.shortfall == 5.5
    with pytest.raises(ValueError, match="cannot be negative"):
        consume([], -1)


def test_new_points_repay_a_debt_first():
    assert new_lot_remaining(100, balance_before=50) == 100
    assert new_lot_remaining(100, balance_before=-30) == 70
    assert new_lot_remaining(20, balance_before=-30) == 0


def test_due_lots_are_unspent_and_expired_by_today():
    lots = [
        Lot(1, 5, date(2026, 1, 1)),
        Lot(2, 0, date(2026, 1, 1)),
        Lot(3, 5, date(2026, 1, 2)),
        Lot(4, 5, None),
    ]
    assert [lot.key for lot in due_lots(lots, date(2026, 1, 1))] == [1]


@pytest.mark.parametrize(
    ("earned", "amount", "refunded", "expected"),
    [
        (100, 200, 50, 25),
        (100, 200, 200, 100),
        (100, 200, 500, 100),  # never more than earned
        (100, 200, 0, 0),
        (0, 200, 100, 0),
        (33.33, 90, 30, 11.11),
        (10, 0, 5, 10),  # free order refunded at all: all points go
    ],
)
def test_reversal_is_proportional_to_the_refunded_share(earned, amount, refunded, expected):
    assert reversal_target(earned, amount, refunded) == expected


def reversal_entries(earned, amount, refunded_totals):
    """The ledger entries of successive refunds, as the orders book them:
    each takes what the refunds so far call for, less what was taken."""
    entries = []
    for refunded in refunded_totals:
        entries.append(round_points(reversal_target(earned, amount, refunded) - sum(entries)))
    return entries


def test_partial_refunds_take_their_share_and_add_up_to_the_full_reversal():
    # 77.77 points on 333.00: refunds of 100.00, 33.30 and 199.70.
    # 77.77 x 100 / 333 = 23.354 -> 23.35; 77.77 x 133.3 / 333 = 31.131 -> 31.13,
    # so 7.78 more; the rest of the order, 77.77 - 31.13 = 46.64.
    entries = reversal_entries(77.77, 333.0, [100.0, 133.3, 333.0])
    assert entries == [23.35, 7.78, 46.64]
    assert round_points(sum(entries)) == 77.77
    # Three thirds of 10 points: one by one they would round to 3 x 3.33 =
    # 9.99; against the running total they are 3.33, 3.34 (6.67 - 3.33), 3.33.
    entries = reversal_entries(10.0, 300.0, [100.0, 200.0, 300.0])
    assert entries == [3.33, 3.34, 3.33]
    assert round_points(sum(entries)) == 10.0
    # Partial refunds that stop short of the full amount: 100 points on 200,
    # refunds of 50 and 30 take 25 and 15, and 60 points stay.
    assert reversal_entries(100.0, 200.0, [50.0, 80.0]) == [25.0, 15.0]
    # A credit note cancelled (refunded total back from 80 to 50) gives its 15 back.
    assert reversal_entries(100.0, 200.0, [50.0, 80.0, 50.0]) == [25.0, 15.0, -15.0]


def test_multipliers_add_campaign_bonuses_to_the_customer_multiplier():
    breakdown = multiply_points(100, 1.5, [("Holiday", 2.0, 1.0), ("Coffee", 3.0, 0.25)])
    assert breakdown.customer_bonus == 50
    assert breakdown.campaign_bonuses == (("Holiday", 150), ("Coffee", 75))
    assert breakdown.total == 375
    plain = multiply_points(10.005)
    assert plain.total == 10.01 and plain.campaign_bonuses == ()


def test_multipliers_reject_negative_factors():
    with pytest.raises(ValueError, match="multiplier cannot be negative"):
        multiply_points(10, -1)
    with pytest.raises(ValueError, match="multiplier cannot be negative"):
        multiply_points(10, 1, [("Bad", -2, 1)])


def test_redeemable_points_are_bounded_by_balance_and_order_total():
    assert redeemable_points(500, 30.0, 0.1) == 300
    assert redeemable_points(120, 30.0, 0.1) == 120
    assert redeemable_points(-5, 30.0, 0.1) == 0
    with pytest.raises(ValueError, match="worth a positive amount"):
        redeemable_points(10, 10, 0)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (0, "must be positive"),
        (-1, "must be positive"),
        (501, "Only 500 points are available"),
        (301, "worth more than the order total"),
    ],
)
def test_invalid_redemptions_are_refused(points, message):
    with pytest.raises(ValueError, match=message):
        check_redemption(points, balance=500, order_total=30.0, point_value=0.1)
    check_redemption(300, balance=500, order_total=30.0, point_value=0.1)  # the most allowed


def test_random_ledgers_keep_unspent_points_equal_to_a_positive_balance():
    """Earn, spend and take back at random: the lots always hold exactly
    max(balance, 0) and no lot goes below zero."""
    rng = random.Random(7)
    for _run in range(200):
        lots = {}
        balance = 0.0
        for step in range(40):
            points = round_points(rng.uniform(-60, 80))
            if points > 0:
                lots[step] = Lot(
                    step, new_lot_remaining(points, balance), date(2027, 1, 1 + step % 28)
                )
            else:
                result = consume(list(lots.values()), -points)
                for key, taken in result.taken.items():
                    lot = lots[key]
                    lots[key] = Lot(key, round_points(lot.remaining - taken), lot.expires_on)
            balance = round_points(balance + points)
            assert all(lot.remaining >= 0 for lot in lots.values())
            assert round_points(sum(lot.remaining for lot in lots.values())) == max(balance, 0.0)


def test_category_share_counts_subcategories_and_handles_empty_orders():
    lines = [("1/4/", 30.0), ("1/4/9/", 20.0), ("1/5/", 50.0), (None, 0.0)]
    assert category_share(lines, ["1/4/"]) == 0.5
    assert category_share(lines, ["1/4/9/", "1/5/"]) == 0.7
    assert category_share(lines, []) == 1.0
    assert category_share([], ["1/4/"]) == 0.0
    assert category_share([("1/4/", -10.0)], ["1/4/"]) == 0.0
