from . import retention_playbook
