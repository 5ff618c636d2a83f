from . import test_pos_retention
from . import test_member_at_the_till_tour
from . import test_pos_till_followups
