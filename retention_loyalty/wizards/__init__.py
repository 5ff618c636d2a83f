from . import loyalty_card_update_balance
from . import retention_points_adjust_wizard
from . import retention_points_redeem_wizard
from . import retention_club_cancel_wizard
from . import retention_subscription_close_wizard
from . import retention_subscription_make_wizard
from . import retention_scorecard_compute_wizard
from . import retention_subscription_recurrence_wizard
