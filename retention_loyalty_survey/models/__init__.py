from . import retention_playbook_action
from . import survey_user_input
from . import retention_customer_stat
from . import retention_points_entry
from . import loyalty_program
from . import retention_dashboard
