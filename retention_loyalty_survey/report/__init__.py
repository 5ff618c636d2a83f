from . import retention_nps_answer
