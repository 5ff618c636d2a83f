"""Maximum-likelihood fitting shared by the customer models: L-BFGS-B over
the logarithms of the parameters (so they stay positive), within bounds."""

import numpy as np
from scipy import optimize

# L-BFGS-B may stop on a line-search failure at the optimum already (the mean
# log-likelihood is flat to rounding there): a fit whose projected gradient
# (per customer, in log parameters) is below this is converged.
STATIONARY_GRADIENT = 1e-5


def projected_gradient(position, gradient, bounds):
    """The gradient without the components that push against a bound."""
    lower = np.array([low for low, _high in bounds])
    upper = np.array([high for _low, high in bounds])
    blocked = ((position <= lower + 1e-10) & (gradient > 0)) | (
        (position >= upper - 1e-10) & (gradient < 0)
    )
    return np.where(blocked, 0.0, gradient)


def minimize_log_params(objective, start, bounds, model_name):
    """Minimise ``objective`` (log parameters -> value, gradient).

    Returns the parameters (not logged), scipy's result and whether the fit
    converged; ArithmeticError when it did not reach finite values."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = optimize.minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
    params = np.exp(result.x)
    if not (np.all(np.isfinite(params)) and np.isfinite(result.fun)):
        raise ArithmeticError(f"The {model_name} fit did not reach finite parameters.")
    _value, gradient = objective(result.x)
    stationary = np.max(np.abs(projected_gradient(result.x, gradient, bounds)))
    converged = bool(result.success) or bool(stationary < STATIONARY_GRADIENT)
    return [float(value) for value in params], result, converged
