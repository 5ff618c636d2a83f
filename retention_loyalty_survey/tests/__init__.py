from . import test_survey_action
