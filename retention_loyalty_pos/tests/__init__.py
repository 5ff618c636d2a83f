from . import test_pos_retention
