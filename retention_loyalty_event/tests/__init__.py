from . import test_event_action
