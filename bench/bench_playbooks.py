"""Benchmark of the daily evaluation of time-based retention playbooks.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data):

    $ODOO_PYTHON bench/bench_playbooks.py -d DATABASE [--customers 100000] [--addons-path ...]

It bulk-loads synthetic customers and about ten orders each (the demo
rhythms), computes their statistics, then times three time-based playbooks
(overdue against the usual rhythm, no contact for 60 days, customer
anniversary) that schedule an activity for each customer they reach, with a
10 % control group: the first daily run (target <= 60 s for 100,000
customers) and the next day's run, when the cool-down holds almost everyone
back. Everything is rolled back at the end.
"""

import time
from datetime import timedelta

from bench_customer_stats import (
    TODAY,
    customer_bench_args,
    superuser_environment,
    synthetic_company,
)


def main():
    args = customer_bench_args(__doc__)
    with superuser_environment(args) as env:
        from odoo import Command

        start = time.perf_counter()
        env, company, names, orders = synthetic_company(
            env, "Benchmark Playbooks Co", args.customers, seed=5, prefix="Play "
        )
        env["retention.customer.stat"]._recompute_company(company, today=TODAY, full=True)
        env.flush_all()
        print(
            f"setup: {len(names)} customers, {len(orders)} orders, statistics computed "
            f"({time.perf_counter() - start:.1f} s)"
        )
        call = env.ref("mail.mail_activity_data_call")
        playbooks = env["retention.playbook"].create(
            [
                {
                    "name": name,
                    "company_id": company.id,
                    "trigger": trigger,
                    "overdue_factor": 2.0,
                    "trigger_days": days,
                    "cooldown_days": 30,
                    "control_percent": 10.0,
                    "action_ids": [
                        Command.create(
                            {
                                "kind": "activity",
                                "activity_type_id": call.id,
                                "assignee": "user",
                                "user_id": env.uid,
                                "note": "<p>{customer}: {tier}, {risk} risk, {last_order}</p>",
                            }
                        )
                    ],
                }
                for name, trigger, days in (
                    ("Overdue", "overdue", 0),
                    ("No contact", "no_contact", 60),
                    ("Anniversary", "anniversary", 0),
                )
            ]
        )
        for label, day in (("first daily run", TODAY), ("next day", TODAY + timedelta(days=1))):
            env.invalidate_all()
            start = time.perf_counter()
            runs = 0
            for playbook in playbooks:  # what the cron does, one playbook per call
                runs += len(playbook._evaluate(day))
            env.flush_all()
            seconds = time.perf_counter() - start
            activities = env["mail.activity"].search_count(
                [("retention_playbook_id", "in", playbooks.ids)]
            )
            print(
                f"{label}: {seconds:.1f} s for 3 playbooks over {len(names)} customers "
                f"(target <= 60 s), {runs} customers logged, {activities} open activities"
            )


if __name__ == "__main__":
    main()
