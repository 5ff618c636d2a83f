from . import retention_playbook_action
from . import res_partner
