from . import retention_event_effect
