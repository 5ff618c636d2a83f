from . import retention_playbook_action
from . import survey_user_input
from . import retention_customer_stat
