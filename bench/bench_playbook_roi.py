"""Benchmark of the playbook ROI engine (target: 50 playbooks over 100,000
reached customers, with a 10 % control group on top, in <= 5 s).

Plain Python, no Odoo:

    python bench/bench_playbook_roi.py [--customers 100000] [--playbooks 50]

It draws synthetic outcomes (reorder, revenue, margin, incentive cost) and
times ``roi.roi_from_outcomes``: the per-group summaries and every interval
and verdict of all playbooks.
"""

import argparse
import sys
import time
import types
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--playbooks", type=int, default=50)
    args = parser.parse_args()
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
