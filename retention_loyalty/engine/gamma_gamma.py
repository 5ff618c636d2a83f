"""Gamma-Gamma model of order values (Fader, Hardie & Lee 2005, "RFM and CLV:
using iso-value curves for customer base analysis").

Each customer's order values vary around their own mean, which varies across
customers (p, q, v). Fitted on repeat customers (x > 0 repeat purchases with
mean value m of those purchases); it shrinks a customer's observed mean toward
the population mean, more so when they bought rarely. It assumes order value
and purchase frequency are independent: check with
:func:`frequency_value_correlation`.
"""

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")
    converged: bool = True


def _validate(frequency, monetary):
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    if x.shape != m.shape:
        raise ValueError("frequency and monetary value need one value per customer.")
    if x.size == 0:
        raise ValueError("Gamma-Gamma needs customers with repeat purchases.")
    if np.any(x <= 0) or np.any(~np.isfinite(x)):
        raise ValueError("Gamma-Gamma is fitted on customers with repeat purchases only.")
    if np.any(m <= 0) or np.any(~np.isfinite(m)):
        raise ValueError("Gamma-Gamma needs positive order values.")
    return x, m


def _terms(log_params, x, m, with_gradient):
    p, q, v = np.exp(log_params)
    px = p * x
    log_xm_v = np.log(x * m + v)
    terms = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_xm_v
    )
    if not with_gradient:
        return terms, None
    psi_pxq = special.digamma(px + q)
    d_p = x * (psi_pxq - special.digamma(px) + np.log(m) + np.log(x) - log_xm_v)
    d_q = psi_pxq - special.digamma(q) + np.log(v) - log_xm_v
    d_v = q / v - (px + q) / (x * m + v)
    return terms, np.stack([d_p * p, d_q * q, d_v * v])


def log_likelihood(params, frequency, monetary):
    x, m = _validate(frequency, monetary)
    terms, _gradient = _terms(np.log([params.p, params.q, params.v]), x, m, False)
    return float(terms.sum())


def fit(frequency, monetary, penalizer=0.0):
    """Maximum-likelihood p, q, v from repeat customers' frequency and mean
    repeat order value."""
    x, m = _validate(frequency, monetary)
    n = x.size
    start = np.log([1.0, 1.0, max(float(np.mean(m)), 1e-6)])

    def objective(log_params):
        terms, gradient = _terms(log_params, x, m, True)
        params = np.exp(log_params)
        return (
            -terms.sum() / n + penalizer * np.sum(params**2),
            -gradient.sum(axis=1) / n + penalizer * 2 * params**2,
        )

    result = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-15.0, 20.0)] * 3,
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
    )
    p, q, v = (float(value) for value in np.exp(result.x))
    if not np.all(np.isfinite([p, q, v])):
        raise ArithmeticError("The Gamma-Gamma fit did not reach finite parameters.")
    params = GammaGammaParams(p, q, v)
    return GammaGammaParams(
        p, q, v, log_likelihood=log_likelihood(params, x, m), converged=bool(result.success)
    )


def population_mean_value(params):
    """Expected order value of a customer we know nothing about."""
    if params.q <= 1:
        raise ArithmeticError("The mean order value needs the Gamma-Gamma parameter q above 1.")
    return params.p * params.v / (params.q - 1)


def conditional_expected_value(params, frequency, monetary):
    """Expected order value of each customer given ``frequency`` repeat
    purchases of mean value ``monetary``; the population mean when x = 0."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    if params.q <= 1:
        raise ArithmeticError("The mean order value needs the Gamma-Gamma parameter q above 1.")
    m = np.where(x > 0, m, 0.0)
    return params.p * (params.v + x * m) / (params.p * x + params.q - 1)


def frequency_value_correlation(frequency, monetary):
    """Pearson correlation between purchase frequency and order value of repeat
    customers (0 when it is undefined)."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    if x.size < 2 or np.std(x) == 0 or np.std(m) == 0:
        return 0.0
    return float(np.corrcoef(x, m)[0, 1])
