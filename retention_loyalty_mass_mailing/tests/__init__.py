from . import test_mailing_list_action
from . import test_newsletter_bonus
