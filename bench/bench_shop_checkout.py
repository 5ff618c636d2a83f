"""Benchmark of confirming a shop order paid in part with loyalty points.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty_website_sale is installed (without demo data) and a
database with only Odoo's website_sale_loyalty for the comparison:

    $ODOO_PYTHON bench/bench_shop_checkout.py -d DATABASE --plain-database PLAIN_DB
        [--orders 100] [--addons-path ...]

Each customer has a 100.00 cart of the website (earning 100 points: 1 point
per unit of currency) that spends 300 points worth 0.10 each: with the addon,
chosen with the shop's "use points" (``_retention_shop_use_points``) on a
card of 300 points; on plain Odoo, claimed as website_sale_loyalty's "Claim"
does (``_apply_program_reward``), which spends all it can, on a card of 200
points plus the 100 the order earns. The carts
are then confirmed one by one as the payment confirms them (``action_confirm``
as superuser, after a warm-up). It prints the time and queries per
confirmation on each database and their ratios (target <= 1.3x, and the
query count must not depend on the customer's history: see the query budget
test of the bridge). Everything is rolled back at the end.
"""

import argparse
import time

from bench_customer_stats import open_registry

WARM_UP = 10


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--plain-database", help="a database with website_sale_loyalty only")
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--addons-path", default=None)
    return parser.parse_args()


def shop_carts(env, n_orders, with_addon):
    """Carts of the default website, each with the whole 300 points of its
    customer's card spent on it."""
    website = env.ref("website.default_website")
    company = website.company_id
    env = env(context=dict(env.context, allowed_company_ids=[company.id], tracking_disable=True))
    program = env["loyalty.program"].create(
        {
            "name": "Benchmark Shop Points",
            "program_type": "loyalty",
            "company_id": company.id,
            "applies_on": "both",
            "trigger": "auto",
            "rule_ids": [(0, 0, {"reward_point_mode": "money", "reward_point_amount": 1})],
            "reward_ids": [
                (
                    0,
                    0,
                    {
                        "reward_type": "discount",
                        "discount_mode": "per_point",
                        "discount": 0.1,
                        "required_points": 1,
                        "discount_applicability": "order",
                    },
                )
            ],
        }
    )
    reward = program.reward_ids
    balance = 300 if with_addon else 200
    if with_addon:
        program.retention_redeem_reward_id = reward
    product = env["product.product"].create(
        {"name": "Bench Shop Coffee", "list_price": 100.0, "type": "service", "taxes_id": False}
    )
    users = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            [
                {
                    "name": f"Bench Shopper {index}",
                    "login": f"bench-shop-{index}",
                    "groups_id": [(6, 0, [env.ref("base.group_portal").id])],
                }
                for index in range(n_orders + WARM_UP)
            ]
        )
    )
    env["loyalty.card"].create(
        [
            # Odoo's "Claim" spends all it can, points the order earns included.
            {"program_id": program.id, "partner_id": user.partner_id.id, "points": balance}
            for user in users
        ]
    )
    orders = env["sale.order"].create(
        [
            {
                "partner_id": user.partner_id.id,
                "website_id": website.id,
                "company_id": company.id,
                "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1})],
            }
            for user in users
        ]
    )
    for user, order in zip(users, orders, strict=True):
        order._update_programs_and_rewards()
        if with_addon:
            order.sudo()._retention_shop_use_points(300, user)
        else:
            card = env["loyalty.card"].search(
                [("partner_id", "=", user.partner_id.id), ("program_id", "=", program.id)]
            )
            order._apply_program_reward(reward, card)
            order._update_programs_and_rewards()
        assert round(order.amount_total, 2) == 70.0, order.amount_total
    return orders


def confirmation_cost(env, n_orders, with_addon):
    """Seconds and queries per confirmation of a shop cart paid with points."""
    orders = shop_carts(env, n_orders, with_addon)
    for order in orders[:WARM_UP]:
        order.action_confirm()
    env.flush_all()
    seconds = 0.0
    queries = 0
    for order in orders[WARM_UP:]:
        env.invalidate_all()
        before = env.cr.sql_log_count
        start = time.perf_counter()
        order.action_confirm()
        env.flush_all()
        seconds += time.perf_counter() - start
        queries += env.cr.sql_log_count - before
    assert set(orders.mapped("state")) == {"sale"}
    return seconds / n_orders, queries / n_orders


def describe(cost):
    seconds, queries = cost
    return f"{seconds * 1000:.1f} ms and {queries:.1f} queries"


def main():
    args = parse_args()
    registry = open_registry(args.database, args.addons_path)
    import odoo
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        with_addon = confirmation_cost(env, args.orders, with_addon=True)
        cr.rollback()
    if not args.plain_database:
        print(
            f"confirm a shop order paid with points: {describe(with_addon)} "
            "(give --plain-database for the ratio to plain website_sale_loyalty)"
        )
        return
    plain_registry = odoo.modules.registry.Registry(args.plain_database)
    with plain_registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        plain = confirmation_cost(env, args.orders, with_addon=False)
        cr.rollback()
    print(
        f"confirm a shop order paid with points: {describe(with_addon)} with "
        f"retention_loyalty_website_sale vs {describe(plain)} with plain website_sale_loyalty: "
        f"time ratio {with_addon[0] / plain[0]:.2f} (target <= 1.3), "
        f"query ratio {with_addon[1] / plain[1]:.2f}"
    )


if __name__ == "__main__":
    main()
