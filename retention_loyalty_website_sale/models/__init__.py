from . import sale_order
from . import website
