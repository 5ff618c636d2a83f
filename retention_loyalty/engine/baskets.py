"""A customer's usual basket, on plain values: the products they buy
regularly and in what quantity, from their most recent orders."""

from collections import Counter
from statistics import median
from typing import NamedTuple


def usual_basket(orders, min_orders, last_orders):
    """``orders``: the customer's orders, newest first, each a mapping
    {product: quantity}. Of the ``last_orders`` most recent, the products
    bought in at least ``min_orders`` of them, with the median of the
    quantities bought then, most regular first (then by product). Empty when
    the customer has fewer than ``min_orders`` orders."""
    if min_orders < 1 or last_orders < min_orders:
        raise ValueError("need 1 <= min_orders <= last_orders")
    recent = [order for order in orders[:last_orders] if order]
    if len(recent) < min_orders:
        return []
    counts = Counter(product for order in recent for product in order)
    regular = [product for product, count in counts.items() if count >= min_orders]
    return [
        (product, median(order[product] for order in recent if product in order))
        for product in sorted(regular, key=lambda product: (-counts[product], product))
    ]


class PastOrder(NamedTuple):
    """One past order: {product: quantity} and {product: unit price paid}
    (net of discounts, before taxes), in ``currency``."""

    quantities: dict
    prices: dict
    currency: object = None


class ReorderLine(NamedTuple):
    """A product offered for reordering: ``quantity`` is the one proposed
    (the typical quantity of a usual product, 0 for the others), and the
    quantity and unit price of its last purchase."""

    product: object
    usual: bool
    quantity: float
    last_quantity: float
    last_price: float
    last_currency: object


def reorder_lines(orders, min_orders, last_orders):
    """``orders``: the customer's PastOrder, newest first. Every product of
    the ``last_orders`` most recent: the usual ones first (as in
    :func:`usual_basket`, their typical quantity proposed), then the others,
    most recently bought first (then by product), with nothing proposed."""
    recent = orders[:last_orders]
    usual = dict(usual_basket([order.quantities for order in recent], min_orders, last_orders))
    last_bought = {}  # product: (age rank, the newest order with it)
    for rank, order in enumerate(recent):
        for product in order.quantities:
            last_bought.setdefault(product, (rank, order))
    others = sorted(
        (product for product in last_bought if product not in usual),
        key=lambda product: (last_bought[product][0], product),
    )
    return [
        ReorderLine(
            product=product,
            usual=product in usual,
            quantity=usual.get(product, 0),
            last_quantity=last_bought[product][1].quantities[product],
            last_price=last_bought[product][1].prices.get(product, 0.0),
            last_currency=last_bought[product][1].currency,
        )
        for product in [*usual, *others]
    ]
