import itertools
import statistics
from datetime import date, timedelta

import pytest

from retention_loyalty.engine import demo_history
from retention_loyalty.engine.demo_history import (
    RHYTHM_SHARES,
    generate_demo_history,
    rhythm_counts,
)

TODAY = date(2026, 6, 30)


@pytest.fixture(scope="module")
def history():
    return generate_demo_history(seed=7, n_customers=300, today=TODAY)


def _by_rhythm(history):
    orders = history.orders_by_customer()
    grouped = {rhythm: [] for rhythm in RHYTHM_SHARES}
    for customer in history.customers:
        grouped[customer.rhythm].append(sorted(o.order_date for o in orders[customer.key]))
    return grouped


def test_rhythm_counts_add_up_and_follow_shares():
    for n in (0, 1, 5, 7, 300, 1001):
        counts = rhythm_counts(n)
        assert sum(counts.values()) == n
        for rhythm, share in RHYTHM_SHARES.items():
            assert abs(counts[rhythm] - share * n) < 1
    assert rhythm_counts(300) == {
        "loyal": 60,
        "growing": 45,
        "declining": 45,
        "lapsed": 45,
        "one_off": 60,
        "new": 45,
    }
    with pytest.raises(ValueError, match="cannot be negative"):
        rhythm_counts(-1)


def test_same_seed_same_history_other_seed_other_history(history):
    again = generate_demo_history(seed=7, n_customers=300, today=TODAY)
    assert again.customers == history.customers
    assert again.orders == history.orders
    other = generate_demo_history(seed=8, n_customers=300, today=TODAY)
    assert other.orders != history.orders


def test_mix_of_customers(history):
    assert len(history.customers) == 300
    counts = dict.fromkeys(RHYTHM_SHARES, 0)
    for customer in history.customers:
        counts[customer.rhythm] += 1
    assert counts == rhythm_counts(300)
    companies = [c for c in history.customers if c.is_company]
    assert 0.3 < len(companies) / 300 < 0.5
    assert all(c.contacts for c in companies)
    assert not any(c.contacts for c in history.customers if not c.is_company)
    assert len({c.name for c in history.customers}) == 300, "customer names are unique"
    assert {c.salesperson for c in history.customers} == set(demo_history.SALESPEOPLE)


def test_every_customer_orders_within_the_period(history):
    start = TODAY - timedelta(days=731)
    orders = history.orders_by_customer()
    assert all(orders[c.key] for c in history.customers)
    assert all(start <= o.order_date <= TODAY for o in history.orders)
    product_keys = {p.key for p in history.products}
    for order in history.orders:
        assert order.lines
        assert all(key in product_keys and qty >= 1 for key, qty in order.lines)
        assert len({key for key, _qty in order.lines}) == len(order.lines)


def test_rhythms_behave_as_named(history):
    grouped = _by_rhythm(history)
    midpoint = TODAY - timedelta(days=365)

    assert all(len(dates) == 1 for dates in grouped["one_off"])
    assert all(dates[0] <= TODAY - timedelta(days=90) for dates in grouped["one_off"])

    assert all(dates[0] > TODAY - timedelta(days=90) for dates in grouped["new"])

    for dates in grouped["lapsed"]:
        assert (TODAY - dates[-1]).days >= 180
        assert (TODAY - dates[0]).days > 365

    loyal_medians = []
    for dates in grouped["loyal"]:
        assert (TODAY - dates[-1]).days < 150
        assert len(dates) >= 8
        gaps = [(b - a).days for a, b in itertools.pairwise(dates)]
        loyal_medians.append(statistics.median(gaps))
    assert max(loyal_medians) <= 100
    assert 30 <= statistics.mean(loyal_medians) <= 55

    def halves(dates):
        return sum(d < midpoint for d in dates), sum(d >= midpoint for d in dates)

    growing = [halves(d) for d in grouped["growing"]]
    declining = [halves(d) for d in grouped["declining"]]
    assert sum(late > early for early, late in growing) > 0.8 * len(growing)
    assert sum(late < early for early, late in declining) > 0.8 * len(declining)


def test_growing_customers_buy_more_per_order_later(history):
    orders = history.orders_by_customer()
    quantities_early, quantities_late = [], []
    midpoint = TODAY - timedelta(days=365)
    for customer in history.customers:
        if customer.rhythm != "growing":
            continue
        for order in orders[customer.key]:
            quantity = sum(qty for _key, qty in order.lines) / len(order.lines)
            (quantities_late if order.order_date >= midpoint else quantities_early).append(quantity)
    assert statistics.mean(quantities_late) > statistics.mean(quantities_early)


def test_order_volume_stays_demo_sized(history):
    assert 1500 <= len(history.orders) <= 4500


def test_equipment_is_rare_in_baskets(history):
    expensive = {p.key for p in history.products if p.list_price > 100}
    lines = [key for order in history.orders for key, _qty in order.lines]
    assert sum(key in expensive for key in lines) / len(lines) < 0.05


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one year"):
        generate_demo_history(years=0)


def test_large_bases_keep_names_unique():
    history = generate_demo_history(seed=3, n_customers=5000, today=TODAY)
    assert len({c.name for c in history.customers}) == 5000
