"""Make ``retention_loyalty.engine`` importable without Odoo.

The addon's own ``__init__`` imports Odoo models, so the engine tests load the
addon folder as a bare package and import only its pure-Python ``engine``.
"""

import sys
import types
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parent.parent / "retention_loyalty"

if "retention_loyalty" not in sys.modules:
    package = types.ModuleType("retention_loyalty")
    package.__path__ = [str(ADDON_DIR)]
    sys.modules["retention_loyalty"] = package
