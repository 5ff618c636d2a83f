from . import retention_playbook
from . import retention_customer_stat
