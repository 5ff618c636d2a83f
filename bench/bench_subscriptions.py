"""Benchmark of subscription order generation.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data):

    $ODOO_PYTHON bench/bench_subscriptions.py -d DATABASE [--subscriptions 10000]
        [--workers 2] [--addons-path ...]

The scheduled actions commit batch by batch, so the benchmark works on a
scratch copy of DATABASE (CREATE DATABASE ... TEMPLATE, dropped at the end).
It creates ``--subscriptions`` active monthly subscriptions of two products
(for as many customers) due today, then runs the order-creating cron the way
Odoo's cron workers do: ``--workers`` processes, each running its scheduled
action (one shard of the subscriptions) until nothing is due. It prints the
wall time (target <= 120 s for 10,000 on 2 cores), the orders created and
confirmed, the queries per subscription, and what a second run adds (nothing).
"""

import argparse
import contextlib
import multiprocessing
import time

import psycopg2
from bench_customer_stats import open_registry


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--addons-path", default=None)
    return parser.parse_args()


def admin_query(query):
    connection = psycopg2.connect(dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(query)
    connection.close()


@contextlib.contextmanager
def scratch_database(template, suffix):
    """A scratch copy of ``template`` for a benchmark whose crons commit,
    dropped at the end whatever happens."""
    scratch = f"{template}_{suffix}"
    admin_query(f'DROP DATABASE IF EXISTS "{scratch}"')
    admin_query(f'CREATE DATABASE "{scratch}" TEMPLATE "{template}"')
    try:
        yield scratch
    finally:
        import odoo

        odoo.sql_db.close_all()
        admin_query(f'DROP DATABASE IF EXISTS "{scratch}"')


def setup(database, addons_path, count):
    registry = open_registry(database, addons_path)
    import odoo
    from odoo import Command, api, fields

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        company = env["res.company"].create({"name": "Benchmark Subscriptions Co"})
        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        # Services: a new company has no warehouse for goods (with Inventory
        # installed), and deliveries are not what this measures.
        products = env["product.product"].create(
            [
                {"name": f"Bench coffee {i}", "list_price": 10.0 + i, "type": "service"}
                for i in range(2)
            ]
        )
        partners = env["res.partner"].create(
            [{"name": f"Subscriber {i:05d}"} for i in range(count)]
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
        # Only the benchmark's subscriptions are due.
        env["retention.subscription"].search(
            [("id", "not in", subscriptions.ids), ("state", "=", "active")]
        ).action_pause()
        return subscriptions.ids


def worker(database, addons_path, shard, shards, queries):
    registry = open_registry(database, addons_path)
    import odoo
    from odoo import api, fields

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        Subscription = env["retention.subscription"]
        while True:
            before = cr.sql_log_count
            Subscription._cron_generate_orders(shard=shard, shards=shards)
            with queries.get_lock():
                queries.value += cr.sql_log_count - before
            env.invalidate_all()
            due = env.execute_query(
                odoo.tools.SQL(
                    "SELECT count(*) FROM retention_subscription WHERE state = 'active' "
                    "AND next_date <= %s AND mod(id, %s) = %s",
                    fields.Date.today(),
                    shards,
                    shard,
                )
            )[0][0]
            if not due:
                break


def count_orders(database, addons_path, subscription_ids):
    registry = open_registry(database, addons_path)
    import odoo
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        orders = env["sale.order"].search([("retention_subscription_id", "in", subscription_ids)])
        return len(orders), len(orders.filtered(lambda order: order.state == "sale"))


def run_workers(worker, database, addons_path, workers):
    """Run ``worker(database, addons_path, shard, workers, queries)`` in as
    many forked processes, as cron workers; the seconds they took and their
    shared query counter."""
    import odoo

    odoo.sql_db.close_all()  # the workers are forked: no shared connection
    context = multiprocessing.get_context("fork")
    queries = context.Value("q", 0)
    start = time.perf_counter()
    processes = [
        context.Process(target=worker, args=(database, addons_path, shard, workers, queries))
        for shard in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return time.perf_counter() - start, queries


def main():
    args = parse_args()
    with scratch_database(args.database, "bench_subscriptions") as scratch:
        start = time.perf_counter()
        subscription_ids = setup(scratch, args.addons_path, args.subscriptions)
        print(
            f"setup: {len(subscription_ids)} subscriptions due today "
            f"({time.perf_counter() - start:.1f} s)"
        )
        seconds, queries = run_workers(worker, scratch, args.addons_path, args.workers)
        total, confirmed = count_orders(scratch, args.addons_path, subscription_ids)
        print(
            f"generation: {confirmed} confirmed orders of {total} in {seconds:.1f} s with "
            f"{args.workers} cron workers (target <= 120 s), "
            f"{queries.value / len(subscription_ids):.1f} queries per subscription"
        )
        run_workers(worker, scratch, args.addons_path, 1)
        import odoo

        odoo.sql_db.close_all()
        again, _confirmed = count_orders(scratch, args.addons_path, subscription_ids)
        print(f"second run: {again - total} more orders")


if __name__ == "__main__":
    main()
