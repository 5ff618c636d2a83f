"""Benchmark of the customer statistics (value tiers, churn risk, lifetime value).

Run with the Python that imports Odoo 18, against a database where
retention_loyalty is installed (without demo data):

    $ODOO_PYTHON bench/bench_customer_stats.py -d DATABASE [--customers 100000]
        [--sample 5000] [--addons-path ...] [--keep]

It bulk-loads synthetic customers and confirmed orders with SQL (the demo
rhythms: loyal, growing, declining, lapsed, one-off, new), then prints:

- full recompute end to end (statistics, fit, holdout check, predictions,
  tiers, writes) and an incremental run after 1 % of the customers ordered;
- peak memory (resident set of this process);
- the ratio against a naive per-customer ORM implementation, both run on the
  same sample of customers in a company of their own;
- the CDNOW master file (23,570 customers, 69,659 transactions, from the
  lifetimes package) loaded as partners and orders: our BG/NBD parameters next
  to lifetimes' on the same data.

Everything is rolled back at the end unless --keep is given.
"""

import argparse
import contextlib
import cProfile
import csv
import gc
import io
import itertools
import pstats
import resource
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TODAY = date(2026, 6, 30)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--addons-path", default=None)
    parser.add_argument("--keep", action="store_true", help="commit the loaded data")
    parser.add_argument("--skip-cdnow", action="store_true")
    parser.add_argument(
        "--value-basis",
        choices=("revenue", "margin"),
        default="revenue",
        help="margin: customers valued in margin, each order with two lines (goods with a "
        "cost, a service without)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print where the incremental run spends its time"
    )
    return parser.parse_args()


def peak_rss_mb():
    """Peak resident memory since the last reset_peak_rss(), in MB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss():
    """Linux resets the peak (VmHWM) when 5 is written to clear_refs."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def current_rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reserve_ids(cr, table, count):
    cr.execute(
        f"SELECT nextval('{table}_id_seq') FROM generate_series(1, %s)",
        (count,),
    )
    return [row[0] for row in cr.fetchall()]


def copy_rows(cr, table, columns, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerows(rows)
    buffer.seek(0)
    cr._obj.copy_from(buffer, table, columns=columns, null="")


def load_customers(env, company, customers, orders, name_prefix):
    """Partners and confirmed orders by COPY: ``customers`` is a list of names,
    ``orders`` a list of (customer index, date, untaxed amount)."""
    cr = env.cr
    now = datetime.now()
    partner_ids = reserve_ids(cr, "res_partner", len(customers))
    copy_rows(
        cr,
        "res_partner",
        (
            "id",
            "name",
            "complete_name",
            "commercial_partner_id",
            "active",
            "type",
            "is_company",
            "autopost_bills",
            "customer_rank",
            "create_date",
            "write_date",
        ),
        (
            (
                pid,
                f"{name_prefix}{name}",
                f"{name_prefix}{name}",
                pid,
                "t",
                "contact",
                "f",
                "ask",
                1,
                now,
                now,
            )
            for pid, name in zip(partner_ids, customers, strict=True)
        ),
    )
    copy_orders(cr, company, partner_ids, orders, now)
    cr.execute("ANALYZE res_partner; ANALYZE sale_order;")
    return partner_ids


def copy_orders(cr, company, partner_ids, orders, written_on):
    """Confirmed orders by COPY: (index into ``partner_ids``, date, amount).
    Returns their ids."""
    order_ids = reserve_ids(cr, "sale_order", len(orders))
    # With Inventory (the deliveries bridge), orders need a shipping policy.
    cr.execute(
        "SELECT 1 FROM information_schema.columns"
        " WHERE table_name = 'sale_order' AND column_name = 'picking_policy'"
    )
    shipping = ("picking_policy",) if cr.fetchone() else ()
    copy_rows(
        cr,
        "sale_order",
        (
            "id",
            "name",
            "company_id",
            "partner_id",
            "partner_invoice_id",
            "partner_shipping_id",
            "date_order",
            "state",
            "currency_id",
            "currency_rate",
            "amount_untaxed",
            "amount_tax",
            "amount_total",
            "create_date",
            "write_date",
            *shipping,
        ),
        (
            (
                oid,
                f"B{oid}",
                company.id,
                partner_ids[index],
                partner_ids[index],
                partner_ids[index],
                datetime.combine(day, datetime.min.time()) + timedelta(hours=10),
                "sale",
                company.currency_id.id,
                1.0,
                amount,
                0.0,
                amount,
                written_on,
                written_on,
                *(("direct",) if shipping else ()),
            )
            for oid, (index, day, amount) in zip(order_ids, orders, strict=True)
        ),
    )
    return order_ids


def add_margin_lines(env, company):
    """Value ``company``'s customers in margin and give each order two lines:
    80 % of its amount in goods costing 60 % of their price, 20 % in a service
    without cost (counted at the default margin rate of 20 %)."""
    company.write({"retention_value_basis": "margin", "retention_default_margin_rate": 20.0})
    goods, service = env["product.product"].create(
        [
            {"name": "Bench Goods", "list_price": 1.0, "standard_price": 0.6, "type": "consu"},
            {"name": "Bench Service", "list_price": 1.0, "type": "service"},
        ]
    )
    env.flush_all()
    cr = env.cr
    for product, qty, price in (
        (goods, "0.8 * amount_untaxed", "1.0"),
        (service, "1", "0.2 * amount_untaxed"),
    ):
        cr.execute(
            f"""
            INSERT INTO sale_order_line
                   (order_id, name, product_id, product_uom, product_uom_qty, price_unit,
                    price_subtotal, price_total, customer_lead, company_id, currency_id, state)
            SELECT id, %s, %s, %s, {qty}, {price}, {qty} * {price},
                   {qty} * {price}, 0, company_id, currency_id, 'sale'
              FROM sale_order WHERE company_id = %s
            """,
            (product.name, product.id, product.uom_id.id, company.id),
        )
    cr.execute("ANALYZE sale_order_line")


def synthetic_base(n_customers, seed):
    from odoo.addons.retention_loyalty.engine.demo_history import generate_demo_history

    history = generate_demo_history(seed=seed, n_customers=n_customers, today=TODAY)
    prices = {product.key: product.list_price for product in history.products}
    index = {customer.key: i for i, customer in enumerate(history.customers)}
    orders = [
        (index[order.customer_key], order.order_date, sum(prices[k] * q for k, q in order.lines))
        for order in history.orders
    ]
    return [customer.name for customer in history.customers], orders


def synthetic_company(env, name, customers, seed, prefix):
    """A company of its own with ``customers`` synthetic customers and their
    orders; returns the environment working in it, the company, the customer
    names and the orders."""
    company = env["res.company"].create({"name": name})
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    names, orders = synthetic_base(customers, seed=seed)
    load_customers(env, company, names, orders, prefix)
    return env, company, names, orders


def naive_recompute(env, company, fit):
    """What the set-based code replaces: one search, one Python pass and one
    write per customer."""
    from odoo.addons.retention_loyalty.engine import bgnbd, segments

    params = fit._fitted_model().bgnbd_params
    Stat = env["retention.customer.stat"]
    partners = env["res.partner"].search([("sale_order_ids.company_id", "=", company.id)])
    for partner in partners:
        orders = env["sale.order"].search(
            [
                ("partner_id", "child_of", partner.id),
                ("company_id", "=", company.id),
                ("state", "=", "sale"),
            ],
            order="date_order",
        )
        days = sorted({order.date_order.date() for order in orders})
        revenue = sum(orders.mapped("amount_untaxed"))
        x = len(days) - 1
        t_x = (days[-1] - days[0]).days / 7
        t_age = (TODAY - days[0]).days / 7
        p_alive = float(bgnbd.p_alive(params, [x], [t_x], [t_age])[0]) if params else 1.0
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        usual_gap = segments.usual_gap_days(
            [len(gaps)], [statistics.median(gaps) if gaps else float("nan")], 30.0, 30.0
        )
        overdue = segments.overdue_ratio([(TODAY - days[-1]).days], usual_gap)
        risk = segments.RISK_LEVELS[int(segments.risk_levels([p_alive], overdue)[0])]
        values = {
            "first_order_date": days[0],
            "last_order_date": days[-1],
            "order_count": len(orders),
            "purchase_day_count": len(days),
            "revenue_total": revenue,
            "p_alive": p_alive,
            "risk_level": risk,
        }
        stat = Stat.search([("partner_id", "=", partner.id), ("company_id", "=", company.id)])
        if stat:
            stat.write(values)
        else:
            Stat.create({"partner_id": partner.id, "company_id": company.id, **values})
    env.flush_all()
    return len(partners)


def cdnow_comparison(env, company):
    """Load CDNOW's master file as partners and orders and fit on the first
    39 weeks (to 1997-09-30), as in the paper; compare with lifetimes."""
    import importlib.util

    from odoo.addons.retention_loyalty.engine import bgnbd, customer_scoring

    spec = importlib.util.find_spec("lifetimes")
    if spec is None:
        print("cdnow: skipped (the lifetimes package is not installed)")
        return
    master = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_master.txt"
    lines = master.read_text().splitlines()[1:]  # after the header
    rows = [line.split() for line in lines if line.strip()]
    customer_index = {}
    orders = []
    for customer, day, _quantity, amount in rows:
        index = customer_index.setdefault(customer, len(customer_index))
        orders.append((index, datetime.strptime(day, "%Y%m%d").date(), float(amount)))
    names = list(customer_index)
    start = time.perf_counter()
    load_customers(env, company, names, orders, "CDNOW ")
    load_seconds = time.perf_counter() - start
    end = date(1997, 9, 30)
    Stat = env["retention.customer.stat"]
    summary = Stat._read_purchase_summary(company, end)
    settings = customer_scoring.ScoringSettings()
    start = time.perf_counter()
    fitted = customer_scoring.fit(summary, settings)
    fit_seconds = time.perf_counter() - start
    ours = fitted.bgnbd_params
    print(
        f"cdnow: {len(names)} customers, {len(orders)} transactions loaded in "
        f"{load_seconds:.1f} s; {summary.size} customers with a purchase by {end}; "
        f"fit {fit_seconds:.2f} s"
    )
    print(
        f"cdnow ours:      r={ours.r:.4f} alpha={ours.alpha:.4f} a={ours.a:.4f} "
        f"b={ours.b:.4f} loglik={ours.log_likelihood:.1f}"
    )
    try:
        import pandas as pd
        from lifetimes import BetaGeoFitter
    except ImportError as error:
        print(f"cdnow lifetimes: not run ({error})")
        return
    x, t_x, t_age = customer_scoring._bgnbd_inputs(summary)
    oracle = BetaGeoFitter().fit(pd.Series(x), pd.Series(t_x), pd.Series(t_age))
    p = oracle.params_
    theirs = bgnbd.BgNbdParams(p["r"], p["alpha"], p["a"], p["b"])
    print(
        f"cdnow lifetimes: r={p['r']:.4f} alpha={p['alpha']:.4f} a={p['a']:.4f} "
        f"b={p['b']:.4f} loglik={bgnbd.log_likelihood(theirs, x, t_x, t_age):.1f}"
    )
    worst = max(abs(getattr(ours, k) / p[k] - 1) for k in ("r", "alpha", "a", "b"))
    print(f"cdnow largest relative parameter difference: {worst:.2e}")


def customer_bench_args(doc):
    """Options of the benchmarks that load synthetic customers."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--addons-path", default=None)
    return parser.parse_args()


def open_registry(database, addons_path):
    """Odoo configured for ``database`` (quiet logs) and its registry."""
    sys.path.insert(0, str(REPO))
    import odoo

    if not getattr(open_registry, "configured", False):  # Odoo parses its options once
        config_args = [f"--database={database}", "--log-level=warn"]
        if addons_path:
            config_args.append(f"--addons-path={addons_path}")
        odoo.tools.config.parse_config(config_args)
        open_registry.configured = True
    return odoo.modules.registry.Registry(database)


@contextlib.contextmanager
def superuser_environment(args, **context):
    """A superuser environment (no tracking) on a new cursor of the benchmark
    database; whatever the benchmark did is rolled back at the end."""
    registry = open_registry(args.database, args.addons_path)
    import odoo
    from odoo import api

    with registry.cursor() as cr:
        try:
            yield api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True, **context})
        finally:
            cr.rollback()


def main():
    args = parse_args()
    registry = open_registry(args.database, args.addons_path)
    import odoo
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        Stat = env["retention.customer.stat"]
        big = env["res.company"].create({"name": "Benchmark Co"})
        sample = env["res.company"].create({"name": "Benchmark Sample Co"})

        start = time.perf_counter()
        names, orders = synthetic_base(args.customers, seed=1)
        generate_seconds = time.perf_counter() - start
        start = time.perf_counter()
        partner_ids = load_customers(env, big, names, orders, "Bench ")
        if args.value_basis == "margin":
            add_margin_lines(env, big)
        print(
            f"load: {len(names)} customers, {len(orders)} confirmed orders "
            f"(generated {generate_seconds:.1f} s, "
            f"loaded by COPY {time.perf_counter() - start:.1f} s)"
        )

        gc.collect()
        reset_peak_rss()
        rss_before = current_rss_mb()
        start = time.perf_counter()
        Stat._recompute_company(big, today=TODAY, full=True)
        env.flush_all()
        full_seconds = time.perf_counter() - start
        fit = Stat._current_fit(big)
        print(
            f"full recompute: {full_seconds:.1f} s for {len(names)} customers "
            f"(target <= 60 s) method={fit.method} holdout predicted/actual={fit.holdout_ratio:.3f}"
        )
        print(
            f"peak memory during the full recompute: {peak_rss_mb():.0f} MB resident "
            f"({peak_rss_mb() - rss_before:.0f} MB above the {rss_before:.0f} MB before it)"
        )

        # 1 % of the customers order again; the incremental run follows. As
        # if the last run had read what this transaction wrote so far: the new
        # orders come from a subtransaction, whose id is younger.
        cr.execute("SELECT pg_current_xact_id()::text::bigint")
        big.write(
            {
                "retention_last_run": datetime.now(),
                "retention_stat_watermark": str(cr.fetchone()[0] + 1),
            }
        )
        env.flush_all()
        cr.execute("SAVEPOINT bench_reorder")
        reorder = list(range(0, len(partner_ids), 100))
        new_orders = [(i, TODAY, 42.0) for i in reorder]
        copy_orders(cr, big, partner_ids, new_orders, datetime.now())
        env.invalidate_all()
        profiler = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        Stat._recompute_company(big, today=TODAY)
        env.flush_all()
        incremental_seconds = time.perf_counter() - start
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        print(
            f"incremental recompute: {incremental_seconds:.2f} s after {len(reorder)} customers "
            f"({len(reorder) / len(partner_ids):.0%}) ordered (target <= 5 s)"
        )
        # The first run of a new day re-ages everyone from their stored summary.
        big.retention_last_reage = TODAY - timedelta(days=1)
        start = time.perf_counter()
        Stat._recompute_company(big, today=TODAY)
        env.flush_all()
        print(
            f"daily re-aging of all {len(partner_ids)} customers (P(alive), risk, tiers): "
            f"{time.perf_counter() - start:.1f} s"
        )

        # Same sample, set-based versus per-customer ORM.
        names, orders = synthetic_base(args.sample, seed=2)
        load_customers(env, sample, names, orders, "Sample ")
        start = time.perf_counter()
        Stat._recompute_company(sample, today=TODAY, full=True)
        env.flush_all()
        ours = time.perf_counter() - start
        fit = Stat._current_fit(sample)
        start = time.perf_counter()
        counted = naive_recompute(env, sample, fit)
        naive = time.perf_counter() - start
        print(
            f"sample of {counted} customers: set-based {ours:.2f} s (with fit and holdout), "
            f"naive per-customer ORM {naive:.1f} s (statistics only): ratio {naive / ours:.1f}x"
        )
        if not args.skip_cdnow:
            cdnow_comparison(env, env["res.company"].create({"name": "CDNOW"}))
        if args.keep:
            cr.commit()
        else:
            cr.rollback()


if __name__ == "__main__":
    main()
