"""Calculations of retention_loyalty in plain Python.

Nothing here imports ``odoo``: the Odoo models read data set-wise, pass plain
values in, and write the results back. Every module is tested with plain pytest.
"""
