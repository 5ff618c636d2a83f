from . import retention_points_liability
