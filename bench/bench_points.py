"""Benchmark of the loyalty points ledger.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data) and, for the comparison
with plain Odoo, a database with only sale_management and sale_loyalty:

    $ODOO_PYTHON bench/bench_points.py -d DATABASE --plain-database PLAIN_DB
        [--cards 100000] [--entries-per-card 10] [--orders 200] [--addons-path ...]

It prints:

- the expiry run over ``cards x entries-per-card`` earned entries loaded by
  COPY, of which 10 % are due: total time of the batched cron work (target
  <= 60 s for 1,000,000 entries) and a check that the ledger still adds up;
- confirming orders that earn loyalty points, one by one, with the addon and
  with plain ``sale_loyalty``: time and queries per confirmation and their ratios.

Everything is rolled back at the end.
"""

import argparse
import random
import time
from datetime import date, datetime, timedelta

from bench_customer_stats import copy_rows, load_customers, open_registry, reserve_ids

TODAY = date(2026, 6, 30)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--plain-database", help="a database with sale_loyalty only")
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--entries-per-card", type=int, default=10)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--addons-path", default=None)
    return parser.parse_args()


def points_program(env, company, ledger_rules=True):
    values = {
        "name": "Benchmark Points",
        "program_type": "loyalty",
        "company_id": company.id,
        "applies_on": "both",
        "trigger": "auto",
        "rule_ids": [
            (0, 0, {"reward_point_mode": "money", "reward_point_amount": 1, "minimum_amount": 0})
        ],
        "reward_ids": [
            (
                0,
                0,
                {
                    "reward_type": "discount",
                    "discount_mode": "per_order",
                    "discount": 10,
                    "required_points": 200,
                },
            )
        ],
    }
    if ledger_rules:
        values.update({"retention_expiry_policy": "earned", "retention_expiry_months": 12})
    return env["loyalty.program"].create(values)


def load_ledger(env, company, program, n_cards, per_card, due_share):
    """Cards with ``per_card`` earned lots each; ``due_share`` of the lots
    expired before TODAY."""
    cr = env.cr
    now = datetime.now()
    partner_ids = load_customers(env, company, [f"{i:06d}" for i in range(n_cards)], [], "Pts ")
    card_ids = reserve_ids(cr, "loyalty_card", n_cards)
    rng = random.Random(4)
    lots = []
    for card_id, partner_id in zip(card_ids, partner_ids, strict=True):
        for _lot in range(per_card):
            due = rng.random() < due_share
            earned = TODAY - timedelta(days=rng.randint(370, 700) if due else rng.randint(0, 360))
            expiry = (
                earned.replace(year=earned.year + 1)
                if earned.month != 2
                else earned + timedelta(days=365)
            )
            points = rng.randint(1, 300)
            lots.append((card_id, partner_id, earned, expiry, points))
    balances = {}
    for card_id, _partner, _earned, _expiry, points in lots:
        balances[card_id] = balances.get(card_id, 0) + points
    copy_rows(
        cr,
        "loyalty_card",
        (
            "id",
            "program_id",
            "company_id",
            "partner_id",
            "code",
            "points",
            "active",
            "create_date",
            "write_date",
        ),
        (
            (
                card_id,
                program.id,
                company.id,
                partner_id,
                f"BENCH{card_id}",
                balances[card_id],
                "t",
                now,
                now,
            )
            for card_id, partner_id in zip(card_ids, partner_ids, strict=True)
        ),
    )
    copy_rows(
        cr,
        "retention_points_entry",
        (
            "card_id",
            "program_id",
            "partner_id",
            "company_id",
            "date",
            "kind",
            "points",
            "remaining",
            "expiry_date",
            "description",
            "create_date",
            "write_date",
        ),
        (
            (
                card_id,
                program.id,
                partner_id,
                company.id,
                earned,
                "earn",
                points,
                points,
                expiry,
                "Bench",
                now,
                now,
            )
            for card_id, partner_id, earned, expiry, points in lots
        ),
    )
    cr.execute("ANALYZE loyalty_card; ANALYZE retention_points_entry;")
    due = sum(1 for lot in lots if lot[3] <= TODAY)
    return len(lots), due


def ledger_adds_up(cr, program):
    cr.execute(
        """SELECT count(*) FROM loyalty_card c
             JOIN (SELECT card_id, sum(points) AS points, sum(remaining) AS remaining
                     FROM retention_points_entry GROUP BY card_id) e ON e.card_id = c.id
            WHERE c.program_id = %s AND (round(c.points::numeric, 2) <> e.points
                                         OR e.remaining <> greatest(e.points, 0))""",
        (program.id,),
    )
    return cr.fetchone()[0] == 0


def confirmation_cost(env, n_orders, ledger_rules):
    """Seconds and queries per confirmation of an order earning points."""
    company = env["res.company"].create({"name": "Benchmark Confirm Co"})
    env = env(context=dict(env.context, allowed_company_ids=[company.id], tracking_disable=True))
    points_program(env, company, ledger_rules=ledger_rules)
    product = env["product.product"].create({"name": "Bench product", "list_price": 120.0})
    partners = env["res.partner"].create([{"name": f"Confirm {i}"} for i in range(n_orders + 10)])
    orders = env["sale.order"].create(
        [
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1})],
            }
            for partner in partners
        ]
    )
    for order in orders[:10]:  # warm-up
        order.action_confirm()
    env.flush_all()
    seconds = 0.0
    queries = 0
    for order in orders[10:]:
        env.invalidate_all()
        before = env.cr.sql_log_count
        start = time.perf_counter()
        order.action_confirm()
        env.flush_all()
        seconds += time.perf_counter() - start
        queries += env.cr.sql_log_count - before
    cards = env["loyalty.card"].search_count(
        [("partner_id", "in", partners.ids), ("points", ">", 0)]
    )
    assert cards == len(partners), "every customer earned points"
    return seconds / n_orders, queries / n_orders


def main():
    args = parse_args()
    registry = open_registry(args.database, args.addons_path)
    import odoo
    from odoo import api

    # Confirmations first, on a database not yet bloated by the bulk load, and
    # on a connection of their own: PostgreSQL caches the foreign-key check
    # plans of a connection, and plans made on small tables would slow the
    # bulk load down.
    with registry.cursor() as cr:
        with_addon = confirmation_cost(
            api.Environment(cr, odoo.SUPERUSER_ID, {}), args.orders, ledger_rules=True
        )
        cr.rollback()
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env["res.company"].create({"name": "Benchmark Points Co"})
        program = points_program(env, company)
        start = time.perf_counter()
        total, due = load_ledger(env, company, program, args.cards, args.entries_per_card, 0.1)
        load_seconds = time.perf_counter() - start
        print(f"load: {args.cards} cards, {total} earned entries, {due} due ({load_seconds:.1f} s)")

        start = time.perf_counter()
        batches = expired = 0
        while True:
            done, _left = env["loyalty.card"]._retention_expire_due(batch_size=20000, today=TODAY)
            if not done:
                break
            expired += done
            batches += 1
        env.flush_all()
        expiry_seconds = time.perf_counter() - start
        print(
            f"expiry: {expired} lots expired of {total} in {batches} batches, "
            f"{expiry_seconds:.1f} s (target <= 60 s), "
            f"ledger adds up: {ledger_adds_up(cr, program)}"
        )
        cr.rollback()

    if args.plain_database:
        plain_registry = odoo.modules.registry.Registry(args.plain_database)
        with plain_registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            plain = confirmation_cost(env, args.orders, ledger_rules=False)
            cr.rollback()
        print(
            f"confirm an order earning points: {describe(with_addon)} with retention_loyalty vs "
            f"{describe(plain)} with plain sale_loyalty: time ratio "
            f"{with_addon[0] / plain[0]:.2f}, query ratio {with_addon[1] / plain[1]:.2f}"
        )
    else:
        print(
            f"confirm an order earning points: {describe(with_addon)} "
            "(give --plain-database for the ratio to plain sale_loyalty)"
        )


def describe(cost):
    seconds, queries = cost
    return f"{seconds * 1000:.1f} ms and {queries:.1f} queries"


if __name__ == "__main__":
    main()
