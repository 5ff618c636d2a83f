"""Benchmark of subscription billing: orders, posted invoices and card payments.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty and payment_demo are installed (without demo data):

    $ODOO_PYTHON bench/bench_subscription_billing.py -d DATABASE [--subscriptions 10000]
        [--workers 2] [--addons-path ...]

The scheduled actions commit, so the benchmark works on a scratch copy of
DATABASE (CREATE DATABASE ... TEMPLATE, dropped at the end). It creates
``--subscriptions`` active monthly subscriptions due today (for as many
customers, each with a saved demo card that accepts payments), invoiced with
the policy "Posted invoice", then runs the orders' scheduled action as Odoo's
cron workers do: ``--workers`` processes, each running its own shard until
nothing is due and no posted invoice waits for its payment. It prints the wall
time (target <= 180 s for 10,000 with 2 workers), the orders, posted and paid
invoices, payments and queries per subscription, and what a second run adds
(nothing).

With ``--floor`` it also measures Odoo alone on another scratch copy: the
same customers' orders (same products and quantities) created, confirmed,
invoiced, posted and paid with Odoo's own batch calls (``action_confirm``,
``_create_invoices``, ``action_post``, the payment register wizard) in
batches of 500 in one process, with no subscription, card or retention code.
It prints the milliseconds per subscription of each and their ratio, so the
figure says how far the cron is from what Odoo's documents cost by themselves.
"""

import argparse
import time

from bench_customer_stats import open_registry
from bench_subscriptions import run_workers, scratch_database


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--addons-path", default=None)
    parser.add_argument(
        "--floor", action="store_true", help="also time Odoo's own batch flow for the same orders"
    )
    return parser.parse_args()


def setup(database, addons_path, count):
    registry = open_registry(database, addons_path)
    import odoo
    from odoo import Command, api, fields

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        provider = env.ref("payment.payment_provider_demo", raise_if_not_found=False)
        if not provider or provider.code != "demo":
            raise SystemExit("install payment_demo in the database first (-i payment_demo)")
        company = env.company
        provider.write({"state": "test", "company_id": company.id})
        products = env["product.product"].create(
            [
                {"name": f"Bench billed coffee {i}", "list_price": 10.0 + i, "taxes_id": False}
                for i in range(2)
            ]
        )
        partners = env["res.partner"].create(
            [{"name": f"Billed subscriber {i:05d}"} for i in range(count)]
        )
        method = env.ref("payment_demo.payment_method_demo")
        tokens = env["payment.token"].create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "partner_id": partner.id,
                    "payment_details": "4242",
                    "provider_ref": f"bench {partner.id}",
                    "demo_simulated_state": "done",
                }
                for partner in partners
            ]
        )
        # Only the benchmark's subscriptions are due.
        env["retention.subscription"].search([("state", "=", "active")]).action_pause()
        subscriptions = env["retention.subscription"].create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "date_start": fields.Date.today(),
                    "invoice_policy": "posted",
                    "payment_token_id": token.id,
                    "line_ids": [
                        Command.create({"product_id": product.id, "quantity": 2})
                        for product in products
                    ],
                }
                for partner, token in zip(partners, tokens, strict=True)
            ]
        )
        subscriptions.action_activate()
        ids = subscriptions.ids
        # Statistics, as a production database has: a table never analyzed
        # leaves the planner guessing (and compiling JIT plans for tiny tables).
        cr.commit()
        cr.execute("ANALYZE")
        return ids


def left_for_shard(env, shard, shards):
    """Subscriptions still due and posted invoices still to charge in the shard."""
    from odoo import fields
    from odoo.tools import SQL

    due = env.execute_query(
        SQL(
            "SELECT count(*) FROM retention_subscription WHERE state = 'active' "
            "AND next_date <= %s AND mod(partner_id, %s) = %s "
            "AND (error_date IS NULL OR error_date < %s)",
            fields.Date.today(),
            shards,
            shard,
            fields.Date.today(),
        )
    )[0][0]
    to_charge = env["account.move"]._retention_open_subscription_invoices(
        shard=shard, shards=shards
    )
    return due + len(to_charge)


def worker(database, addons_path, shard, shards, queries):
    registry = open_registry(database, addons_path)
    import odoo
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        Subscription = env["retention.subscription"]
        while True:
            before = cr.sql_log_count
            Subscription._cron_generate_orders(shard=shard, shards=shards)
            with queries.get_lock():
                queries.value += cr.sql_log_count - before
            env.invalidate_all()
            if not left_for_shard(env, shard, shards):
                break


def figures(database, addons_path, subscription_ids):
    registry = open_registry(database, addons_path)
    import odoo
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        orders = env["sale.order"].search_count(
            [("retention_subscription_id", "in", subscription_ids), ("state", "=", "sale")]
        )
        invoices = env["account.move"].search(
            [("retention_subscription_id", "in", subscription_ids), ("state", "=", "posted")]
        )
        paid = invoices.filtered(lambda move: move.payment_state in ("paid", "in_payment"))
        transactions = env["payment.transaction"].search_count(
            [("retention_charge_id.subscription_id", "in", subscription_ids)]
        )
        payments = env["account.payment"].search_count(
            [("payment_transaction_id.retention_charge_id.subscription_id", "in", subscription_ids)]
        )
        return {
            "orders": orders,
            "invoices": len(invoices),
            "paid": len(paid),
            "transactions": transactions,
            "payments": payments,
        }


def phase(phases, name, mark):
    """Add the time since ``mark`` to ``phases[name]``; the new mark."""
    now = time.perf_counter()
    phases[name] += now - mark
    return now


def odoo_floor(database, addons_path, subscription_ids, batch_size=500):
    """Odoo's own batch flow for the subscriptions' orders, without them: the
    seconds it took and the documents made."""
    registry = open_registry(database, addons_path)
    import odoo
    from odoo import Command, api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        subscriptions = env["retention.subscription"].browse(subscription_ids)
        order_values = [
            {
                "partner_id": subscription.partner_id.id,
                "order_line": [
                    Command.create(
                        {"product_id": line.product_id.id, "product_uom_qty": line.quantity}
                    )
                    for line in subscription.line_ids
                ],
            }
            for subscription in subscriptions
        ]
        # Nothing of the subscriptions' own cron may run meanwhile.
        subscriptions.action_pause()
        cr.commit()
        env.invalidate_all()
        made = {"orders": 0, "invoices": 0, "payments": 0}
        phases = dict.fromkeys(("confirm", "invoice", "post", "pay"), 0.0)
        start = time.perf_counter()
        for index in range(0, len(order_values), batch_size):
            mark = time.perf_counter()
            orders = env["sale.order"].create(order_values[index : index + batch_size])
            orders.action_confirm()
            mark = phase(phases, "confirm", mark)
            invoices = orders._create_invoices()
            mark = phase(phases, "invoice", mark)
            invoices.action_post()
            mark = phase(phases, "post", mark)
            payments = (
                env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=invoices.ids)
                .create({"group_payment": False})
                ._create_payments()
            )
            cr.commit()
            phase(phases, "pay", mark)
            env.invalidate_all()
            made["orders"] += len(orders)
            made["invoices"] += len(invoices)
            made["payments"] += len(payments)
        made["phases"] = phases
        return time.perf_counter() - start, made


def main():
    args = parse_args()
    with scratch_database(args.database, "bench_billing") as scratch:
        start = time.perf_counter()
        subscription_ids = setup(scratch, args.addons_path, args.subscriptions)
        print(
            f"setup: {len(subscription_ids)} subscriptions due today, each with a demo card "
            f"({time.perf_counter() - start:.1f} s)"
        )
        seconds, queries = run_workers(worker, scratch, args.addons_path, args.workers)
        first = figures(scratch, args.addons_path, subscription_ids)
        print(
            f"billing: {first['orders']} confirmed orders, {first['invoices']} posted invoices, "
            f"{first['paid']} paid by {first['transactions']} card transactions "
            f"({first['payments']} payments) in {seconds:.1f} s with {args.workers} cron "
            f"workers (target <= 180 s for 10,000), "
            f"{queries.value / len(subscription_ids):.1f} queries per subscription, "
            f"{seconds / len(subscription_ids) * 1000:.1f} ms per subscription"
        )
        run_workers(worker, scratch, args.addons_path, 1)
        import odoo

        odoo.sql_db.close_all()
        again = figures(scratch, args.addons_path, subscription_ids)
        print(
            "second run adds: "
            + ", ".join(
                f"{again[key] - first[key]} {key}"
                for key in ("orders", "invoices", "transactions", "payments")
            )
        )
    if not args.floor:
        return
    with scratch_database(args.database, "bench_billing_floor") as scratch:
        subscription_ids = setup(scratch, args.addons_path, args.subscriptions)
        floor_seconds, made = odoo_floor(scratch, args.addons_path, subscription_ids)
        ours = seconds * args.workers / len(subscription_ids) * 1000
        floor = floor_seconds / len(subscription_ids) * 1000
        print(
            f"Odoo alone, one process: {made['orders']} orders confirmed, {made['invoices']} "
            f"invoices posted and {made['payments']} payments in {floor_seconds:.1f} s, "
            f"{floor:.1f} ms per subscription; the cron takes {ours:.1f} ms of a worker per "
            f"subscription: {ours / floor:.2f}x Odoo's own batch flow"
        )
        count = len(subscription_ids)
        print(
            "Odoo alone, ms per subscription: "
            + ", ".join(
                f"{name} {seconds_ * 1000 / count:.1f}" for name, seconds_ in made["phases"].items()
            )
        )


if __name__ == "__main__":
    main()
