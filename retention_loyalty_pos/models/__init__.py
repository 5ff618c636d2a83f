from . import res_company
from . import retention_customer_stat
from . import retention_points_entry
from . import loyalty_card
from . import pos_order
from . import pos_config
from . import res_partner
