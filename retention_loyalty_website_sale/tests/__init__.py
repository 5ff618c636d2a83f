from . import test_member_prices_routes_tour
from . import test_shop_concurrency
from . import test_shop_points_routes_tour
from . import test_shop_points_tour
from . import test_shop_queries
from . import test_shop_demo
