"""Benchmark of the daily evaluation of a club ladder.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data):

    $ODOO_PYTHON bench/bench_clubs.py -d DATABASE [--customers 100000] [--addons-path ...]

It bulk-loads synthetic customers and about ten orders each (the demo
rhythms) with COPY, puts a Silver / Gold / Platinum ladder on their 12-month
revenue, and prints the time of the daily evaluation (target <= 30 s for
100,000 customers):

- the first run, which enrols everyone who qualifies;
- a second run the same day, which changes nothing;
- a run a year later, when most customers no longer qualify and their grace
  period starts, and a run after the grace, which moves them down.

Everything is rolled back at the end.
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
    with superuser_environment(args, retention_club_no_mail=True) as env:
        start = time.perf_counter()
        env, company, names, orders = synthetic_company(
            env, "Benchmark Club Co", args.customers, seed=3, prefix="Club "
        )
        print(
            f"load: {len(names)} customers, {len(orders)} orders "
            f"({time.perf_counter() - start:.1f} s)"
        )
        ladder = env["retention.club.ladder"].create({"name": "Bench", "company_id": company.id})
        env["retention.club"].create(
            [
                {
                    "name": name,
                    "company_id": company.id,
                    "ladder_id": ladder.id,
                    "sequence": sequence,
                    "qualification_threshold": threshold,
                    "window_days": 365,
                    "grace_days": 30,
                }
                for sequence, (name, threshold) in enumerate(
                    (("Silver", 200.0), ("Gold", 800.0), ("Platinum", 2000.0))
                )
            ]
        )
        Membership = env["retention.club.membership"]

        def timed_run(label, day):
            env.invalidate_all()
            start = time.perf_counter()
            changes = Membership._evaluate_qualified(day, company_ids=company.ids)
            env.flush_all()
            seconds = time.perf_counter() - start
            counts = dict(
                Membership._read_group([("company_id", "=", company.id)], ["state"], ["__count"])
            )
            print(
                f"{label}: {seconds:.1f} s, {changes} changes (target <= 30 s); "
                f"memberships by state: {counts}"
            )

        timed_run("first evaluation", TODAY)
        timed_run("same day again", TODAY)
        timed_run("a year later (grace starts)", TODAY + timedelta(days=365))
        timed_run("after the grace period", TODAY + timedelta(days=400))


if __name__ == "__main__":
    main()
