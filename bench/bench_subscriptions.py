"""Benchmark of subscription order generation.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data):

    $ODOO_PYTHON bench/bench_subscriptions.py -d DATABASE [--subscriptions 10000]
        [--addons-path ...]

It creates ``--subscriptions`` active monthly subscriptions of two products
(for as many customers) due today, then times the cron work that creates and
confirms one sales order per subscription, batch after batch as the cron
does, without committing (target <= 120 s for 10,000 on 2 cores), and prints the queries per
subscription. A second run checks that nothing is ordered twice.

Everything is rolled back at the end.
"""

import argparse
import time

from bench_customer_stats import open_registry


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--addons-path", default=None)
    return parser.parse_args()


def main():
    args = parse_args()
    registry = open_registry(args.database, args.addons_path)
    import odoo
    from odoo import Command, api, fields

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        company = env["res.company"].create({"name": "Benchmark Subscriptions Co"})
        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        products = env["product.product"].create(
            [{"name": f"Bench coffee {i}", "list_price": 10.0 + i} for i in range(2)]
        )
        start = time.perf_counter()
        partners = env["res.partner"].create(
            [{"name": f"Subscriber {i:05d}"} for i in range(args.subscriptions)]
        )
        subscriptions = env["retention.subscription"].create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "date_start": fields.Date.today(),
                    "line_ids": [
                        Command.create({"product_id": product.id, "quantity": 2})
                        for product in products
                    ],
                }
                for partner in partners
            ]
        )
        subscriptions.action_activate()
        env.flush_all()
        print(
            f"setup: {len(subscriptions)} subscriptions due today "
            f"({time.perf_counter() - start:.1f} s)"
        )
        Subscription = env["retention.subscription"]
        env.invalidate_all()
        before = cr.sql_log_count
        start = time.perf_counter()
        batches = 0
        while True:
            # What each cron run does, without its commit, so that all rolls back.
            due = Subscription.search(
                [("state", "=", "active"), ("next_date", "<=", fields.Date.today())], limit=500
            )
            if not due:
                break
            due._generate_orders()
            batches += 1
        env.flush_all()
        seconds = time.perf_counter() - start
        queries = cr.sql_log_count - before
        orders = env["sale.order"].search_count(
            [("retention_subscription_id", "in", subscriptions.ids), ("state", "=", "sale")]
        )
        print(
            f"generation: {orders} confirmed orders in {seconds:.1f} s over {batches} cron runs "
            f"(target <= 120 s), {queries / len(subscriptions):.1f} queries per subscription"
        )
        subscriptions._generate_orders()
        again = env["sale.order"].search_count(
            [("retention_subscription_id", "in", subscriptions.ids)]
        )
        print(f"second run: {again - orders} more orders")
        cr.rollback()


if __name__ == "__main__":
    main()
