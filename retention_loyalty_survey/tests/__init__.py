from . import test_survey_action
from . import test_survey_answers
from . import test_survey_bonus
from . import test_nps
from . import test_detractor_batch
