"""Benchmark of the retention dashboard and the salesperson scorecards.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data):

    $ODOO_PYTHON bench/bench_dashboard.py -d DATABASE [--customers 100000] [--addons-path ...]

It bulk-loads synthetic customers and about ten orders each (the demo
rhythms) shared by 20 salespeople, computes the customer statistics, rebuilds
the dashboard's customer months, then times, as the administrator in the
web client would call them, every read_group behind the dashboard's main
views (target <= 2 s each) and the computation of one month of scorecards.
Everything is rolled back at the end.
"""

import time

from bench_customer_stats import (
    TODAY,
    customer_bench_args,
    superuser_environment,
    synthetic_company,
)

SALESPEOPLE = 20


def timed(label, call, results):
    start = time.perf_counter()
    value = call()
    elapsed = time.perf_counter() - start
    results.append((label, elapsed))
    print(f"  {label:<58} {elapsed * 1000:8.0f} ms")
    return value


def main():
    args = customer_bench_args(__doc__)
    with superuser_environment(args) as env:
        from odoo.addons.retention_loyalty.engine.dates import add_months

        cr = env.cr
        start = time.perf_counter()
        env, company, names, orders = synthetic_company(
            env, "Benchmark Dashboard Co", args.customers, seed=8, prefix="Dash "
        )
        users = env["res.users"].create(
            [
                {
                    "name": f"Bench Salesperson {i}",
                    "login": f"bench-dashboard-{i}",
                    "company_id": company.id,
                    "company_ids": [(6, 0, [company.id])],
                    "groups_id": [(6, 0, [env.ref("sales_team.group_sale_salesman").id])],
                }
                for i in range(SALESPEOPLE)
            ]
        )
        # Customers mostly keep a salesperson; one order in seven goes to another one.
        cr.execute(
            """
            UPDATE sale_order
               SET user_id = (%(users)s::int[])[
                       1 + (partner_id + CASE WHEN id %% 7 = 0 THEN 1 ELSE 0 END) %% %(n)s]
             WHERE company_id = %(company)s
            """,
            {"users": users.ids, "n": SALESPEOPLE, "company": company.id},
        )
        env["retention.customer.stat"]._recompute_company(company, today=TODAY, full=True)
        env.flush_all()
        print(
            f"setup: {len(names)} customers, {len(orders)} orders, {SALESPEOPLE} salespeople, "
            f"statistics computed ({time.perf_counter() - start:.1f} s)"
        )

        months = env["retention.customer.month"]
        start = time.perf_counter()
        rows = months._rebuild_company(company, as_of=TODAY)
        env.flush_all()
        print(f"dashboard rebuild: {rows} customer-months in {time.perf_counter() - start:.1f} s")

        admin = env.ref("base.user_admin")
        admin.write({"company_ids": [(4, company.id)]})
        user_env = env(user=admin, context=dict(env.context, allowed_company_ids=[company.id]))
        first_month = add_months(TODAY.replace(day=1), -11).isoformat()
        results = []
        print("read_groups behind the dashboard's views (administrator):")
        model = user_env["retention.customer.month"]
        overview = [("month", ">=", first_month)]
        timed(
            "Retention Overview pivot (12 months x 8 measures)",
            lambda: model.read_group(
                overview,
                [
                    "active_count:sum",
                    "new_count:sum",
                    "retained_count:sum",
                    "reactivated_count:sum",
                    "churned_count:sum",
                    "repeat_rate:avg",
                    "revenue_new:sum",
                    "revenue_existing:sum",
                ],
                ["month:month"],
                lazy=False,
            ),
            results,
        )
        timed(
            "Retention Overview graph (active customers by month)",
            lambda: model.read_group(overview, ["active_count:sum"], ["month:month"], lazy=False),
            results,
        )
        timed(
            "Retention Overview pivot by salesperson",
            lambda: model.read_group(
                overview,
                ["active_count:sum", "churned_count:sum", "revenue:sum"],
                ["user_id"],
                lazy=False,
            ),
            results,
        )
        timed(
            "Retention Overview list (first 80 rows)",
            lambda: model.web_search_read(
                overview, {"partner_id": {"fields": {"display_name": {}}}, "revenue": {}}, limit=80
            ),
            results,
        )
        timed(
            "Revenue new vs existing graph",
            lambda: model.read_group(
                [*overview, ("order_count", ">", 0)],
                ["revenue:sum"],
                ["month:month", "buyer_kind"],
                lazy=False,
            ),
            results,
        )
        timed(
            "Cohort retention list (12 cohorts x 12 months)",
            lambda: user_env["retention.cohort"].search_read([("cohort_month", ">=", first_month)]),
            results,
        )
        timed(
            "Value x risk matrix pivot",
            lambda: user_env["retention.customer.stat"].read_group(
                [],
                ["revenue_12m:sum", "value_at_stake:sum", "clv:sum"],
                ["value_tier_id", "risk_level"],
                lazy=False,
            ),
            results,
        )
        for label, model_name, groupby in (
            ("Points liability pivot", "retention.points.liability", ["program_id"]),
            ("Members per club pivot", "retention.club.membership", ["club_id", "state"]),
            (
                "Subscriptions over time (MRR) graph",
                "retention.subscription.month",
                ["month:month"],
            ),
            (
                "Subscription churn (churned MRR) pivot",
                "retention.subscription.event",
                ["date:month"],
            ),
        ):
            timed(
                label,
                lambda model_name=model_name, groupby=groupby: user_env[model_name].read_group(
                    [], ["__count"], groupby, lazy=False
                ),
                results,
            )
        timed(
            "Playbook effect list",
            lambda: user_env["retention.playbook.effect"].search_read([], limit=80),
            results,
        )

        last_month = add_months(TODAY.replace(day=1), -1)
        start = time.perf_counter()
        cards = env["retention.scorecard"]._compute_period(company, "month", last_month)
        env.flush_all()
        elapsed = time.perf_counter() - start
        print(
            f"scorecards of {last_month:%Y-%m}: {len(cards)} salespeople, "
            f"{len(cards.line_ids)} customer lines in {elapsed:.1f} s"
        )
        scorecard_model = user_env["retention.scorecard"]
        timed(
            "Salesperson scorecards list (read 80)",
            lambda: scorecard_model.web_search_read(
                [], {"user_id": {"fields": {"display_name": {}}}, "bonus": {}}, limit=80
            ),
            results,
        )
        timed(
            "Salesperson scorecards pivot",
            lambda: scorecard_model.read_group(
                [], ["bonus:sum"], ["user_id", "date_start:month"], lazy=False
            ),
            results,
        )
        worst = max(results, key=lambda item: item[1])
        print(
            f"slowest view: {worst[0]} {worst[1]:.2f} s "
            f"(target <= 2 s: ratio {worst[1] / 2.0:.2f} of the budget)"
        )


if __name__ == "__main__":
    main()
