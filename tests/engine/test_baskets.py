import pytest

from retention_loyalty.engine.baskets import PastOrder, ReorderLine, reorder_lines, usual_basket


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


def _order(currency="EUR", **lines):
    """A past order of {product: (quantity, unit price)}."""
    return PastOrder(
        {product: quantity for product, (quantity, _price) in lines.items()},
        {product: price for product, (_quantity, price) in lines.items()},
        currency,
    )


def test_reorder_lines_list_usual_products_first_then_the_others_bought_lately():
    orders = [  # newest first
        _order(beans=(2, 17.0), filters=(1, 4.0)),
        _order(beans=(3, 18.0), milk=(6, 1.5)),
        _order("USD", beans=(2, 19.0), filters=(2, 4.5), mugs=(4, 9.0)),
        _order(cups=(5, 2.0)),  # beyond the last three: not offered
    ]
    assert reorder_lines(orders, min_orders=2, last_orders=3) == [
        ReorderLine("beans", True, 2, 2, 17.0, "EUR"),
        ReorderLine("filters", True, 1.5, 1, 4.0, "EUR"),
        ReorderLine("milk", False, 0, 6, 1.5, "EUR"),
        ReorderLine("mugs", False, 0, 4, 9.0, "USD"),
    ]


def test_reorder_lines_offer_every_product_when_no_usual_basket_yet():
    orders = [_order(cups=(3, 2.0), beans=(1, 20.0))]
    assert reorder_lines(orders, min_orders=2, last_orders=4) == [
        ReorderLine("beans", False, 0, 1, 20.0, "EUR"),
        ReorderLine("cups", False, 0, 3, 2.0, "EUR"),
    ]
    assert reorder_lines([], min_orders=2, last_orders=4) == []
