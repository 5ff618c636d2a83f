from . import test_delivery_triggers
from . import test_demo
