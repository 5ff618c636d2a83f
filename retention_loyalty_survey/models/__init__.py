from . import retention_playbook_action
from . import survey_user_input
