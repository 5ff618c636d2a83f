from . import test_survey_action
from . import test_survey_answers
