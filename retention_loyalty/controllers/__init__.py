from . import portal
from . import quick_reorder
from . import rewards
