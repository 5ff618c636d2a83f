from . import test_security
from . import test_demo_generator
from . import test_customer_stat
from . import test_points
from . import test_points_concurrency
from . import test_clubs
from . import test_subscriptions
from . import test_playbooks
