from . import sale_order
from . import website
from . import retention_shop_demo
