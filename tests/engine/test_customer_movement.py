from datetime import date

import pytest

from retention_loyalty.engine.customer_movement import (
    MovementSettings,
    customer_months,
    period_months,
    repeat_rate,
)

SETTINGS = MovementSettings(active_days=90, churn_days=90, reactivation_days=90)
AS_OF = date(2026, 6, 15)


def by_month(rows):
    return {row.month: row for row in rows}


def test_settings_are_checked():
    MovementSettings().validate()
    with pytest.raises(ValueError, match="at least one day"):
        MovementSettings(active_days=0).validate()
    with pytest.raises(ValueError, match="churn period"):
        MovementSettings(active_days=120, churn_days=90).validate()


def test_a_new_customer_stays_active_for_the_active_period():
    rows = by_month(customer_months([(date(2026, 1, 10), 100.0, 7)], AS_OF, SETTINGS))
    # Active 10 January .. 9 April (90 days), churned on 10 April.
    assert sorted(rows) == [date(2026, m, 1) for m in (1, 2, 3, 4)]
    january, february, march, april = (rows[date(2026, m, 1)] for m in (1, 2, 3, 4))
    assert january.new and january.active and january.bought and not january.retained
    assert january.revenue == 100.0 and january.order_count == 1 and january.user_id == 7
    assert january.cohort_month == date(2026, 1, 1) and january.month_offset == 0
    assert not january.repeat_buyer
    assert february.retained and not february.bought and february.month_offset == 1
    assert march.retained and march.active
    assert not april.active and not april.retained and april.churned
    assert april.revenue_lost == 100.0 and april.user_id == 7


def test_churn_only_once_its_day_has_come():
    rows = by_month(customer_months([(date(2026, 4, 1), 50.0, None)], AS_OF, SETTINGS))
    assert not any(row.churned for row in rows.values())
    assert rows[date(2026, 6, 1)].active  # 15 June is within 90 days


def test_reactivation_after_the_gap_and_its_revenue_lost():
    orders = [
        (date(2025, 1, 5), 40.0, 1),
        (date(2025, 2, 5), 60.0, 1),
        (date(2025, 8, 20), 80.0, 2),  # 195 days after 5 February
        (date(2025, 9, 1), -30.0, 2),  # a refund: revenue, not a purchase
    ]
    rows = by_month(customer_months(orders, AS_OF, SETTINGS))
    may = rows[date(2025, 5, 1)]  # churned on 6 May: 90 days after 5 February
    assert may.churned and may.revenue_lost == 100.0 and may.user_id == 1
    assert date(2025, 6, 1) not in rows and date(2025, 7, 1) not in rows
    august = rows[date(2025, 8, 1)]
    assert august.reactivated and august.repeat_buyer and not august.retained
    assert august.user_id == 2 and august.month_offset == 7
    september = rows[date(2025, 9, 1)]
    assert september.revenue == -30.0 and not september.bought and september.retained
    november = rows[date(2025, 11, 1)]  # churned on 18 November
    # Revenue lost: the 90 days up to the last purchase (20 August), not the later refund.
    assert november.churned and november.revenue_lost == 80.0


def test_a_purchase_on_the_churn_day_keeps_the_customer():
    orders = [(date(2026, 1, 1), 10.0, None), (date(2026, 4, 1), 10.0, None)]  # 90 days later
    rows = customer_months(orders, AS_OF, SETTINGS)
    assert not any(row.churned or row.reactivated for row in rows)
    assert all(row.retained for row in rows if row.month > date(2026, 1, 1))


def test_same_day_orders_are_one_purchase_and_future_orders_are_ignored():
    orders = [
        (date(2026, 6, 2), 10.0, 3),
        (date(2026, 6, 2), 15.0, 4),
        (date(2026, 7, 1), 99.0, 3),
    ]
    (june,) = customer_months(orders, AS_OF, SETTINGS)
    assert june.revenue == 25.0 and june.order_count == 2 and june.user_id == 4


def test_refunds_only_are_revenue_without_customer_status():
    (row,) = customer_months([(date(2026, 3, 3), -20.0, None)], AS_OF, SETTINGS)
    assert row.revenue == -20.0 and row.cohort_month is None and row.month_offset is None
    assert not (row.active or row.new or row.bought)
    assert customer_months([], AS_OF, SETTINGS) == []


def test_repeat_rate():
    orders = {
        1: [(date(2026, 1, 5), 10.0, None), (date(2026, 2, 5), 10.0, None)],
        2: [(date(2026, 1, 20), 10.0, None)],
        3: [(date(2026, 2, 1), 10.0, None)],
        4: [(date(2026, 2, 3), -10.0, None)],  # refunds only: in no cohort
    }
    february = {
        pid: by_month(customer_months(rows, AS_OF, SETTINGS)).get(date(2026, 2, 1))
        for pid, rows in orders.items()
    }
    assert repeat_rate(february[1]) == 100.0
    assert repeat_rate(february[3]) == 0.0
    assert repeat_rate(february[2]) is None


def test_reactivation_and_churn_belong_to_the_salesperson_of_their_purchase():
    orders = [
        (date(2025, 1, 10), 100.0, 1),
        (date(2025, 6, 3), 50.0, 2),  # reactivates (143 days later)
        (date(2025, 6, 20), 70.0, 3),  # another salesperson, same month
        (date(2025, 6, 25), -20.0, 4),  # a credit note by a fourth one
    ]
    rows = by_month(customer_months(orders, AS_OF, SETTINGS))
    june = rows[date(2025, 6, 1)]
    assert june.reactivated and june.reactivated_user_id == 2
    assert june.user_id == 3  # the month: latest purchase, not the credit note
    september = rows[date(2025, 9, 1)]  # churned on 18 September
    assert september.churned and september.churned_user_id == 3
    assert september.user_id == 3
    april = rows[date(2025, 4, 1)]  # first churn, on 10 April
    assert april.churned_user_id == 1 and april.revenue_lost == 100.0


def test_purchases_without_a_salesperson_belong_to_nobody():
    orders = [(date(2026, 1, 5), 10.0, 5), (date(2026, 3, 1), 10.0, None)]
    rows = by_month(customer_months(orders, AS_OF, SETTINGS))
    assert rows[date(2026, 2, 1)].user_id == 5
    assert rows[date(2026, 3, 1)].user_id is None
    assert rows[date(2026, 5, 1)].churned_user_id is None  # churned 30 May


def test_period_months():
    assert period_months(date(2025, 11, 20), 3) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]
