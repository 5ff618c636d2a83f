#!/usr/bin/env python3
"""Mutation check: deliberate faults in production code must turn `make test` red.

    python3 tools/mutation_check.py [--only NAME[,NAME...]] [--full] [--baseline] [--list]

For each fault of FAULTS: a scratch copy of the committed tree (``git archive
HEAD``) in a temporary folder, one exact text replacement in one file of it,
the tests run in the copy, the copy removed. One line per fault says whether
the tests went red ("caught") or stayed green ("MISSED"), which step went red
and the failing tests; the last line is "N of M faults caught" (exit code 1
when a fault was missed).

The tests run are, by default, the harness' engine and odoo steps
(RETENTION_TEST_STEPS, one after the other, stopping at the first red one):
a strict subset of `make test`, so red here means `make test` is red. --full
runs the whole `make test` instead. --baseline first runs the unmutated copy,
which must be green. Not part of `make test`: each fault installs the addons
on a fresh database and runs the Odoo tests (a few minutes each).

A fault whose text is no longer found exactly once stops the script before
anything runs: change the fault along with the code. PostgreSQL, Odoo and
the tool environments are found as by `make test` (PG*, ODOO_PYTHON or the
machine-level setting); the copies share this repository's .venv/ and
.cache/odoo-pydeps/, made here first when missing. Each fault's output is
kept in .cache/mutation/NAME.log.

Only the standard library is used here, like tools/harness.py.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import harness

REPO = Path(__file__).resolve().parent.parent
LOGS = REPO / ".cache" / "mutation"
FAST_STEPS = ("engine", "odoo")
SHOWN_TESTS = 6


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    path: str
    old: str
    new: str


FAULTS = (
    Fault(
        "clv_swap",
        "the stats write-back gives each customer the neighbour's CLV and value at stake",
        "retention_loyalty/models/retention_customer_stat.py",
        '            "clv": result.clv,\n            "value_at_stake": result.value_at_stake,\n',
        '            "clv": np.roll(result.clv, 1),\n'
        '            "value_at_stake": np.roll(result.value_at_stake, 1),\n',
    ),
    Fault(
        "refund_dropped",
        "a credit note's take-back of points is not posted (only give-backs are)",
        "retention_loyalty/models/sale_order.py",
        "            delta = round_points(min(target, unexpired) - taken)\n            if delta:\n",
        "            delta = round_points(min(target, unexpired) - taken)\n"
        "            if delta < 0:\n",
    ),
    Fault(
        "risk_threshold_inverted",
        "high risk by P(alive) is for customers above the threshold instead of below",
        "retention_loyalty/engine/segments.py",
        "            p_alive < thresholds.high_p_alive,\n",
        "            p_alive > thresholds.high_p_alive,\n",
    ),
    Fault(
        "control_group_skipped",
        "playbooks draw no control group (share 0 instead of the playbook's)",
        "retention_loyalty/models/retention_playbook.py",
        "if in_control_group(playbook.id, p, playbook.control_percent)",
        "if in_control_group(playbook.id, p, 0)",
    ),
    Fault(
        "record_rule_ignored",
        "the salesperson's own-customers rule on customer statistics allows everything",
        "retention_loyalty/security/retention_rules.xml",
        '        <field name="name">Customer statistics: own customers</field>\n'
        '        <field name="model_id" ref="model_retention_customer_stat"/>\n'
        "        <field name=\"domain_force\">['|', ('user_id', '=', user.id),"
        " ('user_id', '=', False)]</field>\n",
        '        <field name="name">Customer statistics: own customers</field>\n'
        '        <field name="model_id" ref="model_retention_customer_stat"/>\n'
        "        <field name=\"domain_force\">[(1, '=', 1)]</field>\n",
    ),
    Fault(
        "clv_horizon_doubled",
        "CLV is predicted over twice the company's horizon",
        "retention_loyalty/models/retention_customer_stat.py",
        "            horizon_months=company.retention_clv_horizon_months,\n",
        "            horizon_months=2 * company.retention_clv_horizon_months,\n",
    ),
    Fault(
        "expiry_never_runs",
        "the points expiry cron takes batches of 0 lots: nothing ever expires",
        "retention_loyalty/models/loyalty_card.py",
        "        expired, left = self._retention_expire_due(batch_size)\n",
        "        expired, left = self._retention_expire_due(0)\n",
    ),
    Fault(
        "cooldown_ignored",
        "playbooks contact a customer again whatever their cool-down",
        "retention_loyalty/models/retention_playbook.py",
        "recent.get((playbook.id, partner_id)), today, playbook.cooldown_days",
        "recent.get((playbook.id, partner_id)), today, 0",
    ),
)

STEP_LINE = re.compile(
    r"^\[harness\] (lint|engine|odoo|odoo-suites|browser|clickbot): "
    r"(\d+) passed, (\d+) failed, (\d+) skipped",
    re.M,
)
# pytest's summary ("FAILED path::Class::test - ...") and Odoo's runner
# ("... odoo.addons.module.tests.file: FAIL: Class.test_x").
PYTEST_FAILURE = re.compile(r"^(?:FAILED|ERROR) (\S+::\S+)", re.M)
ODOO_FAILURE = re.compile(r": (?:FAIL|ERROR): ([A-Z]\w*\.test\w*)")


def committed_text(path):
    return subprocess.run(
        ["git", "-C", str(REPO), "show", f"HEAD:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def check_faults_apply(faults):
    """Every fault's text must be in the committed file exactly once."""
    problems = []
    for fault in faults:
        try:
            count = committed_text(fault.path).count(fault.old)
        except subprocess.CalledProcessError:
            problems.append(f"{fault.name}: {fault.path} is not in HEAD")
            continue
        if count != 1:
            problems.append(
                f"{fault.name}: the text to replace occurs {count} times in {fault.path}"
                " (it must occur once; update the fault with the code)"
            )
    if problems:
        harness.fail("faults that no longer apply:\n  " + "\n  ".join(problems))


def shared_environments(steps):
    """Make the tool environments once here; the scratch copies link to them."""
    harness.dev_python()
    if set(steps) - {"lint", "engine"}:
        odoo_python = harness.find_odoo_python()
        if odoo_python is None:
            harness.fail("no Odoo 18.0 found: the Odoo steps would be skipped (green)")
        harness.odoo_deps(odoo_python, with_test_tools=True)


def scratch_copy(fault):
    """The committed tree in a temporary folder, the fault applied."""
    root = Path(tempfile.mkdtemp(prefix=f"rl-mutation-{fault.name if fault else 'baseline'}-"))
    archive = subprocess.Popen(
        ["git", "-C", str(REPO), "archive", "--format=tar", "HEAD"], stdout=subprocess.PIPE
    )
    subprocess.run(["tar", "-x", "-C", str(root)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait():
        raise RuntimeError("git archive HEAD failed")
    if fault:
        target = root / fault.path
        text = target.read_text()
        if text.count(fault.old) != 1:
            raise RuntimeError(f"{fault.name}: the text to replace is not in {fault.path} once")
        target.write_text(text.replace(fault.old, fault.new))
    (root / ".venv").symlink_to(REPO / ".venv")
    (root / ".cache").mkdir()
    if (REPO / ".cache" / "odoo-pydeps").is_dir():
        (root / ".cache" / "odoo-pydeps").symlink_to(REPO / ".cache" / "odoo-pydeps")
    return root


def run_logged(command, cwd, env, log):
    """Run ``command``, its output appended to ``log``; return (code, output)."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}  # in {cwd}\n")
        out.flush()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        output = []
        try:
            for line in process.stdout:
                output.append(line)
                out.write(line)
            return process.wait(), "".join(output)
        finally:
            if process.poll() is None:
                # The harness cleans its databases up on SIGTERM.
                process.terminate()
                process.wait(timeout=120)


def failing_tests(output):
    names = [nodeid.rsplit("/", 1)[-1] for nodeid in PYTEST_FAILURE.findall(output)]
    names += ODOO_FAILURE.findall(output)
    return list(dict.fromkeys(names))


def red_steps(code, output):
    """The steps that went red in one harness run (by its step lines)."""
    red = [step for step, _passed, failed, _skipped in STEP_LINE.findall(output) if int(failed)]
    # A step that crashed is red, but maybe not for the fault: say so.
    crashed = set(re.findall(r"^\[harness\] (\S+): no report was written", output, re.M))
    red = [f"{step} (crashed)" if step in crashed else step for step in red]
    if "linters reported problems" in output:
        red.insert(0, "lint")
    if code and not red:
        error = re.search(r"^\[harness\] ERROR: (.*)$", output, re.M)
        red.append("install" if error and "installing" in error.group(1) else f"exit {code}")
    return red


def run_tests(root, log, full):
    """Run the tests in ``root``; return (red steps, failing tests)."""
    env = dict(os.environ)
    env.pop("RETENTION_TEST_STEPS", None)
    if full:
        code, output = run_logged(["make", "-C", str(root), "test"], root, env, log)
        return red_steps(code, output), failing_tests(output)
    for step in FAST_STEPS:
        command = [sys.executable, str(root / "tools" / "harness.py"), "test"]
        code, output = run_logged(command, root, {**env, "RETENTION_TEST_STEPS": step}, log)
        red = red_steps(code, output)
        if red:
            return red, failing_tests(output)
    return [], []


def check(fault, full):
    """Run one fault (None: the unmutated copy); return (red steps, failing tests)."""
    name = fault.name if fault else "baseline"
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name}.log"
    log.write_text(f"{name}: {fault.what if fault else 'no fault'}\n")
    root = scratch_copy(fault)
    try:
        return run_tests(root, log, full)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def describe(fault, red, tests, seconds):
    if not red:
        log = (LOGS / f"{fault.name}.log").relative_to(REPO)
        return f"MISSED  {fault.name}: tests green ({seconds:.0f} s; see {log}) - {fault.what}"
    shown = ", ".join(tests[:SHOWN_TESTS]) or "no test named"
    more = f" and {len(tests) - SHOWN_TESTS} more" if len(tests) > SHOWN_TESTS else ""
    return (
        f"caught  {fault.name}: {'+'.join(red)} red ({seconds:.0f} s): {shown}{more} - {fault.what}"
    )


def main():
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated fault names (default: all)")
    parser.add_argument("--full", action="store_true", help="run the whole make test")
    parser.add_argument("--baseline", action="store_true", help="check the unmutated copy first")
    parser.add_argument("--list", action="store_true", help="list the faults and exit")
    args = parser.parse_args()
    names = [fault.name for fault in FAULTS]
    if args.list:
        for fault in FAULTS:
            print(f"{fault.name}: {fault.what} ({fault.path})")
        return 0
    wanted = [name.strip() for name in (args.only or "").split(",") if name.strip()] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        harness.fail(f"unknown faults {', '.join(unknown)}; the faults are {', '.join(names)}")
    faults = [fault for fault in FAULTS if fault.name in wanted]
    # All faults, not only those run: a fault that rotted is found at once.
    check_faults_apply(FAULTS)
    shared_environments(harness.TEST_STEPS if args.full else FAST_STEPS)
    if args.baseline:
        started = time.monotonic()
        red, tests = check(None, args.full)
        if red:
            harness.fail(
                f"the unmutated copy is red ({'+'.join(red)}: {', '.join(tests)}):"
                " faults cannot be judged; see .cache/mutation/baseline.log"
            )
        print(f"baseline: green ({time.monotonic() - started:.0f} s)", flush=True)
    caught = 0
    for fault in faults:
        started = time.monotonic()
        red, tests = check(fault, args.full)
        caught += bool(red)
        print(describe(fault, red, tests, time.monotonic() - started), flush=True)
    print(f"{caught} of {len(faults)} faults caught", flush=True)
    return 0 if caught == len(faults) else 1


if __name__ == "__main__":
    sys.exit(main())
