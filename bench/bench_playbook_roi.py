"""Benchmark of the playbook ROI (target: 50 playbooks over 100,000 reached
customers, with a 10 % control group on top, in <= 5 s).

The engine alone, plain Python:

    python bench/bench_playbook_roi.py [--customers 100000] [--playbooks 50]

draws synthetic outcomes (reorder, revenue, margin, incentive cost) and times
``roi.roi_from_outcomes``: the per-group summaries and every interval and
verdict of all playbooks.

The Playbook ROI report in Odoo (with the Python that imports Odoo 18, on a
database with retention_loyalty installed, everything rolled back):

    $ODOO_PYTHON bench/bench_playbook_roi.py -d DATABASE [--customers 100000]

loads synthetic customers and their orders (the demo rhythms, as the
statistics benchmark), spreads one run per customer over the playbooks 90
days before the last order day (10 % control, an incentive cost on reached
runs), and times reading the report as the list does: the query, the margin
of every order in the windows and the engine.
"""

import argparse
import sys
import time
import types
from datetime import timedelta
from pathlib import Path

import numpy as np

ADDON_DIR = Path(__file__).resolve().parent.parent / "retention_loyalty"
if "retention_loyalty" not in sys.modules:  # the engine only, not the Odoo addon
    package = types.ModuleType("retention_loyalty")
    package.__path__ = [str(ADDON_DIR)]
    sys.modules["retention_loyalty"] = package

from retention_loyalty.engine import roi  # noqa: E402

TARGET_SECONDS = 5.0


def synthetic_outcomes(customers, playbooks, seed=3):
    rng = np.random.default_rng(seed)
    control_count = customers // 9  # 10 % of everyone chosen is kept aside
    total = customers + control_count
    in_control = np.arange(total) >= customers
    playbook_index = rng.integers(0, playbooks, total)
    # Each playbook has its own effect: some pay off, some do not.
    uplift = rng.normal(0.05, 0.08, playbooks)
    rate = np.clip(0.3 + np.where(in_control, 0.0, uplift[playbook_index]), 0.01, 0.99)
    reordered = (rng.random(total) < rate).astype(float)
    revenue = reordered * rng.gamma(1.2, 70.0, total)
    margin = revenue * rng.uniform(0.15, 0.45, total)
    cost = np.where(in_control, 0.0, rng.choice([0.0, 1.0, 2.0, 4.0], total))
    return playbook_index, in_control, reordered, revenue, margin, cost


def odoo_report(args):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_customer_stats import TODAY, superuser_environment, synthetic_company

    with superuser_environment(args) as env:
        from odoo.tools import SQL

        start = time.perf_counter()
        env, company, names, orders = synthetic_company(
            env, "Benchmark ROI Co", args.customers, seed=9, prefix="ROI "
        )
        playbooks = env["retention.playbook"].create(
            [
                {
                    "name": f"ROI {index}",
                    "company_id": company.id,
                    "trigger": "overdue",
                    "control_percent": 10.0,
                    "effect_window_days": 60,
                    "action_ids": [
                        (
                            0,
                            0,
                            {
                                "kind": "activity",
                                "activity_type_id": env.ref("mail.mail_activity_data_call").id,
                            },
                        )
                    ],
                }
                for index in range(args.playbooks)
            ]
        )
        env.flush_all()
        run_day = TODAY - timedelta(days=90)
        env.cr.execute(
            SQL(
                """
                INSERT INTO retention_playbook_run
                       (playbook_id, company_id, partner_id, date, state, in_control,
                        incentive_cost, create_uid, write_uid, create_date, write_date)
                SELECT (%(playbooks)s::int[])[1 + mod(partner.id, %(count)s)], %(company)s,
                       partner.id, %(day)s,
                       CASE WHEN mod(partner.id / 50, 10) = 0 THEN 'control' ELSE 'done' END,
                       mod(partner.id / 50, 10) = 0,
                       CASE WHEN mod(partner.id / 50, 10) = 0 THEN 0
                            ELSE mod(partner.id, 4) * 2.5 END,
                       1, 1, now(), now()
                  FROM res_partner partner
                 WHERE partner.id IN (SELECT partner_id FROM sale_order
                                       WHERE company_id = %(company)s)
                """,
                playbooks=playbooks.ids,
                count=len(playbooks),
                company=company.id,
                day=run_day,
            )
        )
        runs = env.cr.rowcount
        # As in a database in use, the planner knows the tables' statistics.
        env.cr.execute("ANALYZE sale_order, res_partner, retention_playbook_run")
        print(
            f"setup: {len(names)} customers, {len(orders)} orders, {runs} runs "
            f"({time.perf_counter() - start:.1f} s)"
        )
        env.invalidate_all()
        if args.explain:
            roi_query = env["retention.playbook.roi"]._table_query
            env.cr.execute(SQL("EXPLAIN ANALYZE %s", roi_query))
            print("\n".join(row[0] for row in env.cr.fetchall()))
        env.invalidate_all()
        start = time.perf_counter()
        Roi = env["retention.playbook.roi"].with_context(allowed_company_ids=[company.id])
        rows = Roi.search_read(
            [("company_id", "=", company.id)],
            ["playbook_id", "net_return", "net_low", "net_high", "verdict", "rate_low"],
        )
        elapsed = time.perf_counter() - start
        verdicts = {}
        for row in rows:
            verdicts[row["verdict"]] = verdicts.get(row["verdict"], 0) + 1
        print(
            f"Playbook ROI report: {len(rows)} playbooks over {runs} runs: {elapsed:.2f} s "
            f"(target <= {TARGET_SECONDS:.0f} s) - verdicts {verdicts}"
        )
        return 0 if elapsed <= TARGET_SECONDS else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--playbooks", type=int, default=50)
    parser.add_argument("-d", "--database", help="time the Odoo report on this database")
    parser.add_argument("--addons-path", default=None)
    parser.add_argument("--explain", action="store_true", help="print the query plan")
    args = parser.parse_args()
    if args.database:
        return odoo_report(args)
    columns = synthetic_outcomes(args.customers, args.playbooks)
    start = time.perf_counter()
    result = roi.roi_from_outcomes(*columns, has_control=[True] * args.playbooks)
    elapsed = time.perf_counter() - start
    verdicts = {v: int((result.verdict == v).sum()) for v in np.unique(result.verdict)}
    print(
        f"playbook ROI: {args.playbooks} playbooks, {args.customers} reached customers "
        f"(+{int(columns[1].sum())} control): {elapsed:.3f} s "
        f"(target <= {TARGET_SECONDS:.0f} s) - verdicts {verdicts}"
    )
    return 0 if elapsed <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
