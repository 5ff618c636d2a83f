from . import test_event_action
from . import test_event_contact
from . import test_event_bonus
from . import test_event_effect
from . import test_event_registration_link_tour
from . import test_event_cost
