"""The CDNOW reference data shipped inside the ``lifetimes`` package.

Read straight from the package folder: ``lifetimes.datasets`` imports
``pkg_resources``, which recent setuptools no longer has."""

import csv
import importlib.util
from datetime import date
from pathlib import Path

import numpy as np
import pytest


def dataset_dir():
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the lifetimes package (test oracle) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


def read_columns(name):
    with open(dataset_dir() / name, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([float(row[key]) for row in rows]) for key in rows[0]}


def summary():
    """2,357 customers: frequency, recency, T in weeks."""
    return read_columns("cdnow_customers_summary.csv")


def summary_with_values():
    """The same customers with zbar, the mean value of repeat purchases."""
    return read_columns("cdnow_customers_summary_with_transactions.csv")


CALIBRATION_END = date(1997, 9, 30)  # end of week 39 of the study
OBSERVATION_END = date(1998, 6, 30)  # end of week 78


def transactions():
    """CDNOW_sample.txt: one row per transaction of the 2,357 customers, as
    (sample customer id 1-2357, date ordinal, amount), January 1997 to June 1998."""
    raw = np.loadtxt(dataset_dir() / "CDNOW_sample.txt", dtype=str, ndmin=2)
    days = np.array([date(int(d[:4]), int(d[4:6]), int(d[6:])).toordinal() for d in raw[:, 2]])
    return raw[:, 1].astype(int), days, raw[:, 4].astype(float)


def calibration_and_holdout(calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END):
    """Weekly summary (as lifetimes' calibration_and_holdout_data with daily
    periods) of purchase days up to ``calibration_end``, and the number of
    purchase days after it up to ``observation_end``, per customer 1-2357."""
    customers, days, _amounts = transactions()
    cal_end, obs_end = calibration_end.toordinal(), observation_end.toordinal()
    n = int(customers.max())
    x, t_x, t_age, holdout = (np.zeros(n) for _i in range(4))
    pairs = np.unique(np.stack([customers, days], axis=1), axis=0)  # purchase days
    for customer in range(1, n + 1):
        own = pairs[pairs[:, 0] == customer, 1]
        before = own[own <= cal_end]
        x[customer - 1] = before.size - 1
        t_x[customer - 1] = (before.max() - before.min()) / 7
        t_age[customer - 1] = (cal_end - before.min()) / 7
        holdout[customer - 1] = np.sum((own > cal_end) & (own <= obs_end))
    return {
        "frequency": x,
        "recency": t_x,
        "T": t_age,
        "holdout_frequency": holdout,
        "holdout_weeks": (obs_end - cal_end) / 7,
    }
