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
from scipy import special

from . import mle

# Logarithms of p, q and v stay within these bounds during the fit.
_BOUNDS = [(-15.0, 20.0)] * 3


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted (or given) Gamma-Gamma parameters with the fit's diagnostics
    (``log_likelihood`` of the fitted data without penalty)."""

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")
    converged: bool = True
    iterations: int = 0
    message: str = ""


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


def _weights(weights, shape):
    if weights is None:
        return np.ones(shape)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != shape:
        raise ValueError("weights need one value per customer.")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError("weights must be finite, not negative, and not all 0.")
    return weights


def log_likelihood(params, frequency, monetary, weights=None):
    """Total log-likelihood of the mean repeat order values ``monetary`` of
    customers with ``frequency`` repeat purchases (equation 1a of Hardie's
    note 025), weighted by ``weights`` (customers per row)."""
    x, m = _validate(frequency, monetary)
    terms, _gradient = _terms(np.log([params.p, params.q, params.v]), x, m, False)
    return float(_weights(weights, x.shape) @ terms)


def fit(frequency, monetary, weights=None, penalizer=0.0):
    """Maximum-likelihood p, q, v from repeat customers' frequency (x > 0) and
    mean repeat order value (> 0): L-BFGS-B on the analytic gradient over the
    log parameters, minimising the mean negative log-likelihood plus
    ``penalizer`` times the sum of the squared parameters (lifetimes'
    ``penalizer_coef``). Raises ValueError for invalid data and
    ArithmeticError when no finite parameters are reached."""
    x, m = _validate(frequency, monetary)
    weights = _weights(weights, x.shape)
    if not np.isfinite(penalizer) or penalizer < 0:
        raise ValueError("The penalizer must be a finite number, 0 or more.")
    total = weights.sum()
    start = np.log([1.0, 1.0, max(float(np.average(m, weights=weights)), 1e-6)])

    def objective(log_params):
        terms, gradient = _terms(log_params, x, m, True)
        params = np.exp(log_params)
        return (
            -(weights @ terms) / total + penalizer * np.sum(params**2),
            -(gradient @ weights) / total + penalizer * 2 * params**2,
        )

    (p, q, v), result, converged = mle.minimize_log_params(objective, start, _BOUNDS, "Gamma-Gamma")
    params = GammaGammaParams(p, q, v)
    return GammaGammaParams(
        p,
        q,
        v,
        log_likelihood=log_likelihood(params, x, m, weights),
        converged=converged,
        iterations=int(result.nit),
        message=str(result.message),
    )


def population_mean_value(params):
    """Expected order value of a customer we know nothing about: p v / (q - 1)."""
    if params.q <= 1:
        raise ArithmeticError("The mean order value needs the Gamma-Gamma parameter q above 1.")
    return params.p * params.v / (params.q - 1)


def conditional_expected_value(params, frequency, monetary):
    """Expected order value of each customer given ``frequency`` repeat
    purchases of mean value ``monetary`` (equation 5 of the paper):
    p (v + x m) / (p x + q - 1), a weighted mean of the population mean and
    the customer's own mean. The population mean when x = 0 (``monetary`` is
    then ignored and may be NaN). Raises ArithmeticError when q <= 1 (the
    population mean does not exist)."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    if x.shape != m.shape:
        raise ValueError("frequency and monetary value need one value per customer.")
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise ValueError("frequency must be a finite number, 0 or more.")
    if params.q <= 1:
        raise ArithmeticError("The mean order value needs the Gamma-Gamma parameter q above 1.")
    m = np.where(x > 0, m, 0.0)
    return params.p * (params.v + x * m) / (params.p * x + params.q - 1)


def frequency_value_correlation(frequency, monetary):
    """Pearson correlation between purchase frequency and mean order value of
    repeat customers, to check the model's assumption that they are
    independent (close to 0; Fader, Hardie & Lee report 0.11 on CDNOW).
    0 when it is undefined (fewer than 2 customers or no spread)."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    if x.shape != m.shape:
        raise ValueError("frequency and monetary value need one value per customer.")
    if x.size < 2 or np.std(x) == 0 or np.std(m) == 0:
        return 0.0
    return float(np.corrcoef(x, m)[0, 1])
