"""Benchmark of the customers' My rewards portal page.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data):

    $ODOO_PYTHON bench/bench_rewards_page.py -d DATABASE [--years 5] [--customers 20000]
        [--requests 20] [--addons-path ...]

The page is served by Odoo's own WSGI application to a logged-in portal
user, so the benchmark works on a scratch copy of DATABASE (CREATE DATABASE
... TEMPLATE, dropped at the end) where it commits: a customer who ordered
every day for ``--years`` years (orders loaded by COPY), each order earning
points through the ledger, every other one spending some, a weekly bonus and
the expiry of what was not spent within a year (about 4,000 ledger entries
for 5 years), among ``--customers`` other customers with about ten orders
each. It prints the render time of /my/rewards and of a page deep in the
history (target <= 0.5 s), and the time and query count of the page's data.
"""

import argparse
import random
import time
from datetime import datetime, timedelta

from bench_customer_stats import TODAY, copy_orders, load_customers, open_registry, synthetic_base
from bench_quick_reorder import portal_client, time_portal_page
from bench_subscriptions import scratch_database

LOGIN = "bench-rewards"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--addons-path", default=None)
    return parser.parse_args()


def ledger_history(env, card, order_ids, days):
    """Earned on each order, spent on every other one, a weekly bonus, and
    the expiry of the points left unspent after a year."""
    rng = random.Random(17)
    changes = []
    for number, (order_id, day) in enumerate(zip(order_ids, days, strict=True)):
        earned = rng.randint(5, 40)
        changes.append(
            {"card": card, "kind": "earn", "points": earned, "order_id": order_id, "date": day}
        )
        if number % 2:
            changes.append(
                {
                    "card": card,
                    "kind": "spend",
                    "points": -rng.randint(5, 20),
                    "order_id": order_id,
                    "date": day,
                }
            )
        if day.weekday() == 0:
            changes.append({"card": card, "kind": "bonus", "points": 5, "date": day})
    for change in changes:
        change["description"] = "Bench"
    env["loyalty.card"]._retention_post(changes, write_history=True)
    env["loyalty.card"]._retention_expire_due(batch_size=100_000, today=TODAY)


def setup(database, addons_path, args):
    registry = open_registry(database, addons_path)
    import odoo
    from odoo import Command, api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        company = env.company
        names, orders = synthetic_base(args.customers, seed=17)
        load_customers(env, company, names, orders, "Rewards bench ")
        customer = env["res.partner"].create({"name": "Bench Rewards Ltd", "is_company": True})
        buyer = env["res.partner"].create(
            {"name": "Bench Rewards Buyer", "parent_id": customer.id, "email": "r@example.com"}
        )
        env["res.users"].create(
            {
                "login": LOGIN,
                "password": LOGIN,
                "partner_id": buyer.id,
                "groups_id": [Command.set(env.ref("base.group_portal").ids)],
            }
        )
        program = env["loyalty.program"].create(
            {
                "name": "Bench Rewards Points",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "portal_point_name": "points",
                "retention_expiry_policy": "earned",
                "retention_expiry_months": 12,
                "rule_ids": [
                    Command.create({"reward_point_mode": "money", "minimum_amount": 10.0})
                ],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": percent,
                            "discount_applicability": "order",
                            "required_points": points,
                        }
                    )
                    for percent, points in ((5, 100), (10, 250), (20, 600))
                ],
            }
        )
        card = env["loyalty.card"].create({"program_id": program.id, "partner_id": customer.id})
        days = [TODAY - timedelta(days=ago) for ago in range(args.years * 365, 0, -1)]
        order_ids = copy_orders(
            cr, company, [customer.id], [(0, day, 50.0) for day in days], datetime.now()
        )
        start = time.perf_counter()
        ledger_history(env, card, order_ids, days)
        count = env["retention.points.entry"].search_count([("card_id", "=", card.id)])
        cr.execute("ANALYZE retention_points_entry; ANALYZE sale_order;")
        print(
            f"setup: {len(orders)} orders of {len(names)} other customers; the customer "
            f"{len(days)} orders and {count} ledger entries over {args.years} years, balance "
            f"{card.points:g} (ledger posted in {time.perf_counter() - start:.1f} s)"
        )


def time_data_method(database, addons_path):
    registry = open_registry(database, addons_path)
    from odoo import api

    with registry.cursor() as cr:
        user = api.Environment(cr, 1, {})["res.users"].search([("login", "=", LOGIN)])
        env = api.Environment(cr, user.id, {})
        Page = env["retention.portal.rewards"]
        Page._overview()  # warm-up
        env.invalidate_all()
        before = cr.sql_log_count
        start = time.perf_counter()
        overview = Page._overview()
        cards = overview["card_records"]
        total = Page._ledger_count(cards)
        lines = Page._ledger_lines(cards, offset=0, limit=20)
        seconds = time.perf_counter() - start
        print(
            f"data: {seconds * 1000:.0f} ms, {cr.sql_log_count - before} queries, "
            f"{total} ledger entries, {len(lines)} on the first page"
        )


def time_page(database, requests):
    client, environ = portal_client(database, LOGIN)
    for url in ("/my/rewards", "/my/rewards/page/100"):
        median, worst, rows = time_portal_page(
            client, environ, url, requests, "o_retention_ledger_line"
        )
        print(
            f"{url} render: median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms "
            f"over {requests} requests (target <= 500 ms), {rows} ledger rows"
        )


def main():
    args = parse_args()
    with scratch_database(args.database, "bench_rewards") as scratch:
        start = time.perf_counter()
        setup(scratch, args.addons_path, args)
        print(f"setup took {time.perf_counter() - start:.1f} s")
        time_data_method(scratch, args.addons_path)
        time_page(scratch, args.requests)


if __name__ == "__main__":
    main()
