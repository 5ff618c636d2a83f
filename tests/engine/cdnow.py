"""The CDNOW reference data shipped inside the ``lifetimes`` package.

Read straight from the package folder: ``lifetimes.datasets`` imports
``pkg_resources``, which recent setuptools no longer has."""

import csv
import importlib.util
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
