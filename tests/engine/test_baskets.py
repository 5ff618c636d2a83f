import pytest

from retention_loyalty.engine.baskets import usual_basket


def test_products_bought_in_enough_of_the_last_orders_with_their_median_quantity():
    orders = [  # newest first
        {"beans": 2, "filters": 1},
        {"beans": 3, "milk": 6},
        {"beans": 2, "filters": 2, "mugs": 4},
        {"filters": 5, "mugs": 1},
        {"mugs": 1, "milk": 1},  # beyond the last four: not looked at
    ]
    assert usual_basket(orders, min_orders=2, last_orders=4) == [
        ("beans", 2),
        ("filters", 2),
        ("mugs", 2.5),
    ]


def test_a_customer_with_too_few_orders_has_no_usual_basket_yet():
    assert usual_basket([{"beans": 1}], min_orders=2, last_orders=4) == []
    assert usual_basket([], min_orders=1, last_orders=4) == []


def test_one_order_is_enough_when_asked():
    assert usual_basket([{"beans": 1, "cups": 3}], min_orders=1, last_orders=1) == [
        ("beans", 1),
        ("cups", 3),
    ]


def test_nonsense_settings_are_refused():
    with pytest.raises(ValueError):
        usual_basket([], min_orders=0, last_orders=3)
    with pytest.raises(ValueError):
        usual_basket([], min_orders=4, last_orders=3)
