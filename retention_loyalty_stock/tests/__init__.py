from . import test_delivery_triggers
