from . import retention_playbook
from . import retention_customer_stat
from . import retention_demo_generator
