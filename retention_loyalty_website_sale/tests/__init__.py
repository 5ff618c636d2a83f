from . import test_member_prices
from . import test_shop_concurrency
from . import test_shop_points
from . import test_shop_points_tour
from . import test_shop_queries
