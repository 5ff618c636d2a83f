from . import retention_points_liability
from . import retention_subscription_month
from . import retention_playbook_effect
from . import retention_playbook_roi
from . import retention_cohort
from . import retention_subscription_mrr_movement
from . import retention_model_fit_calibration_chart
