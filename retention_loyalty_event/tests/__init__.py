from . import test_event_action
from . import test_event_contact
