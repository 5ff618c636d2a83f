from . import retention_playbook_action
from . import res_partner
from . import retention_points_entry
from . import loyalty_program
from . import event_registration
from . import event_event
from . import retention_playbook
from . import retention_incentive_cost
