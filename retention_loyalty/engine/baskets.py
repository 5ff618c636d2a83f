"""A customer's usual basket, on plain values: the products they buy
regularly and in what quantity, from their most recent orders."""

from collections import Counter
from statistics import median


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
