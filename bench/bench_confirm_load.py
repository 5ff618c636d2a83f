"""Benchmark: confirming sales orders under load, with our addons and without.

Run with the Python that imports Odoo 18, from the repository, naming a
database where the retention addons are installed (without demo data) and a
database with only sale_management and sale_loyalty:

    $ODOO_PYTHON bench/bench_confirm_load.py -d DATABASE --plain-database PLAIN_DB
        [--seconds 30] [--threads 8] [--workers 4] [--addons-path ...]

Both databases are copied to scratch databases (dropped at the end), given the
same loyalty program (1 point per currency unit, a 100-point reward), customers
and draft quotations; the retention copy also gets a three-level club ladder and
five active order playbooks. Odoo is started on each with ``--workers`` HTTP
workers and no cron, and ``--threads`` JSON-RPC clients confirm quotations as a
salesperson for ``--seconds``: once for different customers, once all for the
same customer. It prints, for each: confirmations per second, p95 latency and
failed requests, with the ratios ours / plain; then the median of one
confirmation at a time (ratio ours / plain); then whether the points ledger and
the playbook run log are exact afterwards.
"""

import argparse
import http.client
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SELLER_LOGIN = "bench_load_seller"
SELLER_PASSWORD = "bench_load_seller"
CUSTOMERS = 400


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True, help="retention addons installed")
    parser.add_argument("--plain-database", required=True, help="sale_loyalty only")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sequential", type=int, default=60, help="orders confirmed one by one")
    parser.add_argument("--addons-path", default=None)
    return parser.parse_args()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_sql(statement):
    import psycopg2

    connection = psycopg2.connect(dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def copy_database(source, target):
    admin_sql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


# --------------------------------------------------------------------------- data


def load_data(database, addons_path, orders_per_scenario, retention):
    """Program, seller, customers and quotations, committed: the server runs in
    another process. Returns {scenario: [order ids]}."""
    from bench_customer_stats import open_registry

    import odoo
    from odoo import Command, api

    registry = open_registry(database, addons_path)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        company = env.company
        seller = env["res.users"].create(
            {
                "name": "Load Seller",
                "login": SELLER_LOGIN,
                "password": SELLER_PASSWORD,
                "groups_id": [Command.link(env.ref("sales_team.group_sale_salesman").id)],
            }
        )
        env["loyalty.program"].create(
            {
                "name": "Load Points",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "rule_ids": [
                    Command.create(
                        {
                            "reward_point_mode": "money",
                            "reward_point_amount": 1,
                            "minimum_amount": 0,
                        }
                    )
                ],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount_mode": "per_order",
                            "discount": 10,
                            "required_points": 100,
                        }
                    )
                ],
            }
        )
        product = env["product.product"].create(
            {"name": "Load Product", "list_price": 200.0, "taxes_id": False, "type": "service"}
        )
        customers = env["res.partner"].create(
            [{"name": f"Load Customer {i}", "user_id": seller.id} for i in range(CUSTOMERS)]
        )
        if retention:
            retention_setup(env, company, seller)
        scenarios = {}
        for scenario in ("different", "same", "sequential"):
            partners = (
                [customers[0]] * orders_per_scenario[scenario]
                if scenario == "same"
                else [customers[i % CUSTOMERS] for i in range(orders_per_scenario[scenario])]
            )
            orders = env["sale.order"].create(
                [
                    {
                        "partner_id": partner.id,
                        "user_id": seller.id,
                        "order_line": [Command.create({"product_id": product.id})],
                    }
                    for partner in partners
                ]
            )
            scenarios[scenario] = orders.ids
        cr.commit()
    registry.delete(database)
    return scenarios


def retention_setup(env, company, seller):
    """A qualified three-level ladder and five active order playbooks."""
    from odoo import Command

    ladder = env["retention.club.ladder"].create({"name": "Load Ladder", "company_id": company.id})
    for sequence, (name, threshold) in enumerate(
        (("Silver", 500.0), ("Gold", 2000.0), ("Platinum", 8000.0))
    ):
        env["retention.club"].create(
            {
                "name": name,
                "company_id": company.id,
                "ladder_id": ladder.id,
                "sequence": sequence,
                "policy": "qualified",
                "qualification_measure": "revenue",
                "qualification_threshold": threshold,
            }
        )
    call = env.ref("mail.mail_activity_data_call")
    for name, mode, cooldown, control in (
        ("Thank first-time buyers", "first", 0, 0.0),
        ("Thank every order", "every", 0, 0.0),
        ("Third order", "nth", 0, 0.0),
        ("Every order, 30-day cool-down", "every", 30, 0.0),
        ("First order, control group", "first", 0, 20.0),
    ):
        env["retention.playbook"].create(
            {
                "name": name,
                "company_id": company.id,
                "trigger": "order_confirmed",
                "order_mode": mode,
                "order_number": 3,
                "cooldown_days": cooldown,
                "control_percent": control,
                "active": True,
                "action_ids": [Command.create({"kind": "activity", "activity_type_id": call.id})],
            }
        )


# --------------------------------------------------------------------------- load


class Server:
    def __init__(self, database, addons_path, workers):
        self.port = free_port()
        self.database = database
        # Odoo re-executes its own script for the gevent worker: start it from
        # odoo-bin (beside the odoo package in a source install) when there is one.
        import odoo

        odoo_bin = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
        command = [
            sys.executable,
            *([str(odoo_bin)] if odoo_bin.exists() else ["-m", "odoo"]),
            "-d",
            database,
            f"--db-filter=^{database}$",
            f"--workers={workers}",
            "--max-cron-threads=0",
            f"--http-port={self.port}",
            f"--gevent-port={free_port()}",
            "--log-level=warn",
            "--limit-time-real=600",
        ]
        if addons_path:
            command.append(f"--addons-path={addons_path}")
        self.log = Path(tempfile.gettempdir()) / f"{database}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/web/health")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"Odoo did not start: see {self.log}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


class Client:
    def __init__(self, server):
        self.server = server
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        self.uid = self.call("common", "login", server.database, SELLER_LOGIN, SELLER_PASSWORD)

    def call(self, service, method, *args):
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": service, "method": method, "args": args},
            }
        )
        self.connection.request("POST", "/jsonrpc", body, {"Content-Type": "application/json"})
        answer = json.loads(self.connection.getresponse().read())
        if "error" in answer:
            raise RuntimeError(answer["error"]["data"].get("message", answer["error"]))
        return answer["result"]

    def confirm(self, order_id):
        return self.call(
            "object",
            "execute_kw",
            self.server.database,
            self.uid,
            SELLER_PASSWORD,
            "sale.order",
            "action_confirm",
            [[order_id]],
        )


def load_run(server, order_ids, threads, seconds):
    """``threads`` clients confirm orders for ``seconds``: (per second, p95, failures)."""
    todo = queue.Queue()
    for order_id in order_ids:
        todo.put(order_id)
    latencies, failures = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def work():
        client = Client(server)
        while time.monotonic() < deadline:
            try:
                order_id = todo.get_nowait()
            except queue.Empty:
                return
            started = time.monotonic()
            try:
                client.confirm(order_id)
                with lock:
                    latencies.append(time.monotonic() - started)
            except Exception as error:  # every failed request is counted
                with lock:
                    failures.append(str(error)[:200])

    started = time.monotonic()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    if todo.empty():
        print(f"    (ran out of quotations after {elapsed:.1f} s: raise their number)")
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else float("nan")
    return len(latencies) / elapsed, p95, failures


def sequential_median(server, order_ids):
    client = Client(server)
    timings = []
    for order_id in order_ids:
        started = time.monotonic()
        client.confirm(order_id)
        timings.append(time.monotonic() - started)
    return statistics.median(timings)


def check_retention(database, addons_path):
    """Ledger == balances, and one playbook run per playbook and order at most."""
    from bench_customer_stats import open_registry

    registry = open_registry(database, addons_path)
    with registry.cursor() as cr:
        cr.execute(
            """SELECT count(*) FROM loyalty_card c
                LEFT JOIN (SELECT card_id, sum(points) AS points FROM retention_points_entry
                            GROUP BY card_id) e ON e.card_id = c.id
                WHERE round(c.points::numeric, 2) <> round(coalesce(e.points, 0)::numeric, 2)"""
        )
        off_cards = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM loyalty_card")
        cards = cr.fetchone()[0]
        cr.execute(
            """SELECT count(*) FROM (SELECT 1 FROM retention_playbook_run
                WHERE order_id IS NOT NULL GROUP BY playbook_id, order_id HAVING count(*) > 1) d"""
        )
        duplicate_runs = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM retention_playbook_run")
        runs = cr.fetchone()[0]
    registry.delete(database)
    return cards, off_cards, runs, duplicate_runs


def bench(label, source, args, retention):
    scratch = f"{source}_load_{os.getpid()}"
    copy_database(source, scratch)
    try:
        per_second_guess = 60
        counts = {
            "different": per_second_guess * args.seconds,
            "same": per_second_guess * args.seconds,
            "sequential": args.sequential + 5,
        }
        print(f"[{label}] loading {sum(counts.values())} quotations into {scratch}", flush=True)
        scenarios = load_data(scratch, args.addons_path, counts, retention)
        server = Server(scratch, args.addons_path, args.workers)
        try:
            results = {}
            warm = scenarios["sequential"][:5]
            for order_id in warm:  # every worker loads its registry
                Client(server).confirm(order_id)
            for scenario in ("different", "same"):
                results[scenario] = load_run(
                    server, scenarios[scenario], args.threads, args.seconds
                )
                rate, p95, failures = results[scenario]
                print(
                    f"[{label}] {scenario} customers: {rate:.1f} confirmations/s, "
                    f"p95 {p95:.2f} s, {len(failures)} failed",
                    flush=True,
                )
                for message in sorted(set(failures))[:3]:
                    print(f"    failure: {message}")
            results["sequential"] = sequential_median(server, scenarios["sequential"][5:])
            print(f"[{label}] one at a time: median {results['sequential'] * 1000:.0f} ms")
        finally:
            server.stop()
        if retention:
            cards, off, runs, duplicates = check_retention(scratch, args.addons_path)
            print(
                f"[{label}] ledger: {cards - off}/{cards} cards equal to their ledger; "
                f"playbook runs: {runs}, duplicated runs: {duplicates}"
            )
            results["exact"] = not off and not duplicates
        return results
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def main():
    args = parse_args()
    sys.path.insert(0, str(REPO / "bench"))
    plain = bench("plain sale_loyalty", args.plain_database, args, retention=False)
    ours = bench("retention addons", args.database, args, retention=True)
    print("\nSummary (ratios ours / plain; targets: throughput >= 0.8, one confirmation <= 1.3)")
    for scenario in ("different", "same"):
        ratio = ours[scenario][0] / plain[scenario][0] if plain[scenario][0] else float("nan")
        print(
            f"  {scenario} customers: throughput {ours[scenario][0]:.1f} vs "
            f"{plain[scenario][0]:.1f} /s = {ratio:.2f}x; p95 {ours[scenario][1]:.2f} vs "
            f"{plain[scenario][1]:.2f} s; failed {len(ours[scenario][2])} vs "
            f"{len(plain[scenario][2])}"
        )
    print(
        f"  one confirmation: {ours['sequential'] * 1000:.0f} vs "
        f"{plain['sequential'] * 1000:.0f} ms = {ours['sequential'] / plain['sequential']:.2f}x"
    )
    print(f"  ledger and run log exact: {'yes' if ours.get('exact') else 'NO'}")


if __name__ == "__main__":
    main()
