from . import retention_playbook_action
