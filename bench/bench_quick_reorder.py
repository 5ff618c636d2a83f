"""Benchmark of the key accounts' Quick reorder portal page.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data):

    $ODOO_PYTHON bench/bench_quick_reorder.py -d DATABASE [--years 5] [--customers 20000]
        [--requests 20] [--addons-path ...]

The page is served by Odoo's own WSGI application to a logged-in portal
user, so the benchmark works on a scratch copy of DATABASE (CREATE DATABASE
... TEMPLATE, dropped at the end) where it commits: a key account whose buyer
ordered every week for ``--years`` years (eight lines each out of 40
products), among ``--customers`` other customers with about ten orders each
(loaded by COPY). It prints the render time of /my/reorder (target <= 0.5 s),
the time and query count of the page's data method, and the lines offered.
"""

import argparse
import random
import re
import statistics
import time
from datetime import datetime, timedelta

from bench_customer_stats import (
    TODAY,
    copy_orders,
    copy_rows,
    load_customers,
    open_registry,
    reserve_ids,
    synthetic_base,
)
from bench_subscriptions import scratch_database

LOGIN = "bench-quick-reorder"
PRODUCTS = 40
LINES_PER_ORDER = 8


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--addons-path", default=None)
    return parser.parse_args()


def copy_history(env, company, partner, products, years):
    """A weekly order of ``LINES_PER_ORDER`` products for ``years`` years, by
    COPY: a few products bought nearly every time, the others now and then."""
    cr = env.cr
    rng = random.Random(16)
    now = datetime.now()
    days = [TODAY - timedelta(weeks=week) for week in range(years * 52, 0, -1)]
    # Amounts stay 0: the page reads lines, not order totals.
    order_ids = copy_orders(cr, company, [partner.id], [(0, day, 0.0) for day in days], now)
    weights = [8 if index < 5 else 1 for index in range(len(products))]
    lines = []
    for order_id in order_ids:
        chosen = set()
        while len(chosen) < LINES_PER_ORDER:
            chosen.update(rng.choices(range(len(products)), weights=weights, k=1))
        for index in sorted(chosen):
            product = products[index]
            quantity = rng.randint(1, 6)
            price = product.list_price * rng.choice((1.0, 0.95, 0.9))
            lines.append((order_id, product, quantity, price))
    line_ids = reserve_ids(cr, "sale_order_line", len(lines))
    copy_rows(
        cr,
        "sale_order_line",
        (
            "id",
            "order_id",
            "company_id",
            "currency_id",
            "product_id",
            "name",
            "product_uom_qty",
            "product_uom",
            "price_unit",
            "price_subtotal",
            "customer_lead",
            "state",
            "create_date",
            "write_date",
        ),
        (
            (
                line_id,
                order_id,
                company.id,
                company.currency_id.id,
                product.id,
                product.name,
                quantity,
                product.uom_id.id,
                price,
                quantity * price,
                0,
                "sale",
                now,
                now,
            )
            for line_id, (order_id, product, quantity, price) in zip(line_ids, lines, strict=True)
        ),
    )
    cr.execute("ANALYZE sale_order; ANALYZE sale_order_line;")
    return len(days), len(lines)


def setup(database, addons_path, args):
    registry = open_registry(database, addons_path)
    import odoo
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        company = env.company
        names, orders = synthetic_base(args.customers, seed=16)
        load_customers(env, company, names, orders, "Quick bench ")
        products = env["product.product"].create(
            [
                {"name": f"Bench reorder product {index:02d}", "list_price": 2.0 + index}
                for index in range(PRODUCTS)
            ]
        )
        key_account = env["res.partner"].create(
            {"name": "Bench Key Account", "is_company": True, "retention_key_account": True}
        )
        buyer = env["res.partner"].create(
            {"name": "Bench Buyer", "parent_id": key_account.id, "email": "buyer@example.com"}
        )
        env["res.users"].create(
            {
                "login": LOGIN,
                "password": LOGIN,
                "partner_id": buyer.id,
                "groups_id": [(6, 0, [env.ref("base.group_portal").id])],
            }
        )
        order_count, line_count = copy_history(env, company, buyer, products, args.years)
        print(
            f"setup: {len(orders)} orders of {len(names)} other customers; the key account "
            f"{order_count} weekly orders ({line_count} lines) over {args.years} years"
        )
        return buyer.id


def time_data_method(database, addons_path, buyer_id):
    registry = open_registry(database, addons_path)
    from odoo import api

    with registry.cursor() as cr:
        user = api.Environment(cr, 1, {})["res.users"].search([("login", "=", LOGIN)])
        env = api.Environment(cr, user.id, {})
        contact = env["res.partner"].browse(buyer_id).sudo()
        contact._retention_quick_reorder_offer(env.company.sudo())  # warm-up
        env.invalidate_all()
        before = cr.sql_log_count
        start = time.perf_counter()
        offer = contact._retention_quick_reorder_offer(env.company.sudo())
        seconds = time.perf_counter() - start
        usual = sum(1 for line in offer["lines"] if line["usual"])
        print(
            f"data method: {seconds * 1000:.0f} ms, {cr.sql_log_count - before} queries, "
            f"{len(offer['lines'])} products offered ({usual} usual)"
        )


def portal_client(database, login):
    """A browser-like client signed in as ``login`` (password the same), and
    the request environment to send with it."""
    from werkzeug.test import Client

    import odoo

    client = Client(odoo.http.root)
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    login_page = client.get(f"/web/login?db={database}", environ_base=environ)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.get_data(as_text=True))
    response = client.post(
        "/web/login",
        data={"login": login, "password": login, "csrf_token": token.group(1), "db": database},
        environ_base=environ,
    )
    assert response.status_code == 303, response.status_code
    return client, environ


def time_portal_page(client, environ, url, requests, row_class):
    """Median and worst time of ``requests`` GETs of ``url`` after a warm-up
    (assets, templates, caches), and how many ``row_class`` rows it shows."""
    page = client.get(url, environ_base=environ)
    assert page.status_code == 200, page.status_code
    rows = page.get_data(as_text=True).count(row_class)
    timings = []
    for _request in range(requests):
        start = time.perf_counter()
        page = client.get(url, environ_base=environ)
        timings.append(time.perf_counter() - start)
        assert page.status_code == 200, page.status_code
    return statistics.median(timings), max(timings), rows


def time_page(database, requests):
    client, environ = portal_client(database, LOGIN)
    median, worst, rows = time_portal_page(
        client, environ, "/my/reorder", requests, "o_retention_reorder_line"
    )
    print(
        f"/my/reorder render: median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms "
        f"over {requests} requests (target <= 500 ms), {rows} product rows"
    )


def main():
    args = parse_args()
    with scratch_database(args.database, "bench_quick_reorder") as scratch:
        start = time.perf_counter()
        buyer_id = setup(scratch, args.addons_path, args)
        print(f"setup took {time.perf_counter() - start:.1f} s")
        time_data_method(scratch, args.addons_path, buyer_id)
        time_page(scratch, args.requests)


if __name__ == "__main__":
    main()
