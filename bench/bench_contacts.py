"""Benchmark of the nightly contact evaluation: last contacts, the contact
plan coverage and the "next order due within N days" trigger.

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data):

    $ODOO_PYTHON bench/bench_contacts.py -d DATABASE [--customers 100000] [--addons-path ...]

It bulk-loads synthetic customers and about ten orders each (the demo
rhythms), computes their statistics, adds five chatter touches per customer
by COPY (activities marked done and messages sent, 500,000 for 100,000
customers), then times, each over every customer of the company (target
<= 30 s together for 100,000 customers / 1M orders / 500,000 touches):

- the last touch of every customer;
- the contact plan coverage (tier A every 30 days, B every 90);
- the candidates of "next order due within 7 days" and "no contact for 60 days".

Everything is rolled back at the end.
"""

import random
import time
from datetime import datetime, timedelta

from bench_customer_stats import (
    TODAY,
    copy_rows,
    customer_bench_args,
    reserve_ids,
    superuser_environment,
    synthetic_company,
)

TOUCHES_PER_CUSTOMER = 5


def copy_touches(env, partner_ids):
    """Done activities and sent messages on the customers, dated over two years."""
    cr = env.cr
    rng = random.Random(11)
    author = env.ref("base.user_admin").partner_id.id
    activity_done = env.ref("mail.mt_activities").id
    comment = env.ref("mail.mt_comment").id
    call = env.ref("mail.mail_activity_data_call").id
    rows = []
    for partner_id in partner_ids:
        for _touch in range(TOUCHES_PER_CUSTOMER):
            moment = datetime.combine(TODAY, datetime.min.time()) - timedelta(
                days=rng.randrange(730), hours=rng.randrange(24)
            )
            is_call = rng.random() < 0.5
            rows.append(
                (
                    "res.partner",
                    partner_id,
                    "comment" if not is_call else "notification",
                    activity_done if is_call else comment,
                    call if is_call else "",
                    author,
                    moment,
                    moment,
                    moment,
                )
            )
    ids = reserve_ids(cr, "mail_message", len(rows))
    copy_rows(
        cr,
        "mail_message",
        (
            "id",
            "model",
            "res_id",
            "message_type",
            "subtype_id",
            "mail_activity_type_id",
            "author_id",
            "date",
            "create_date",
            "write_date",
        ),
        ((message_id, *row) for message_id, row in zip(ids, rows, strict=True)),
    )
    cr.execute("ANALYZE mail_message")
    return len(rows)


def main():
    args = customer_bench_args(__doc__)
    with superuser_environment(args) as env:
        from odoo import Command

        start = time.perf_counter()
        env, company, names, orders = synthetic_company(
            env, "Benchmark Contacts Co", args.customers, seed=7, prefix="Touch "
        )
        Stat = env["retention.customer.stat"]
        Stat._recompute_company(company, today=TODAY, full=True)
        env.flush_all()
        tiers = env["retention.value.tier"].search([("company_id", "=", company.id)])
        for tier, cadence in zip(tiers.sorted("cutoff_percent"), (30, 90, 0), strict=False):
            tier.contact_cadence_days = cadence
        stats = Stat.search([("company_id", "=", company.id)])
        touches = copy_touches(env, stats.partner_id.ids)
        print(
            f"setup: {len(names)} customers, {len(orders)} orders, {touches} chatter touches "
            f"({time.perf_counter() - start:.1f} s)"
        )
        call = env.ref("mail.mail_activity_data_call")
        playbooks = env["retention.playbook"].create(
            [
                {
                    "name": name,
                    "company_id": company.id,
                    "trigger": trigger,
                    "trigger_days": days,
                    "action_ids": [
                        Command.create({"kind": "activity", "activity_type_id": call.id})
                    ],
                }
                for name, trigger, days in (
                    ("Due soon", "reorder_due", 7),
                    ("No contact", "no_contact", 60),
                )
            ]
        )
        total = 0.0
        env.invalidate_all()
        for label, measure in (
            (
                "last touch of every customer",
                lambda: len(
                    env["res.partner"]._retention_last_touches(company, stats.partner_id.ids)
                ),
            ),
            (
                "contact plan coverage",
                lambda: sum(Stat._contact_coverage(stats, TODAY).values()),
            ),
            ("next order due within 7 days", lambda: len(playbooks[0]._candidates(TODAY))),
            ("no contact for 60 days", lambda: len(playbooks[1]._candidates(TODAY))),
        ):
            env.invalidate_all()
            started = time.perf_counter()
            count = measure()
            seconds = time.perf_counter() - started
            total += seconds
            print(f"{label}: {seconds:.1f} s ({count})")
        print(
            f"total: {total:.1f} s for {len(stats)} customers, {len(orders)} orders and "
            f"{touches} touches (target <= 30 s, ratio {total / 30:.2f} of the target)"
        )


if __name__ == "__main__":
    main()
