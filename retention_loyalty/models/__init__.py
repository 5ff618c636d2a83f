from . import retention_demo_generator
