from . import portal
from . import quick_reorder
from . import referral
from . import rewards
from . import profile
