from . import test_shop_points
