from . import retention_playbook_action
from . import retention_points_entry
from . import loyalty_program
from . import mailing_contact
from . import mailing_subscription
