from . import portal
from . import quick_reorder
