"""BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005, "Counting your
customers the easy way: an alternative to the Pareto/NBD model").

Per customer: ``x`` repeat purchases (purchase occasions after the first),
``t_x`` the time of the last purchase and ``T`` the age, both measured from
the first purchase, in one time unit chosen by the caller (weeks here).

While active, a customer buys at a Poisson rate (gamma distributed across
customers: r, alpha); after each purchase they may drop out with a
probability (beta distributed: a, b). Everything is computed in log space, so
very small probabilities stay exact instead of becoming 0 or NaN.
"""

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

# Parameters are optimised as logarithms so they stay positive, within bounds:
# clockwork buyers (no spread of purchase rates, nobody leaving) push r, alpha
# and 1/a without limit, and past these values the predictions (hyp2f1) fail
# while the model is already as close to "no spread" as it gets.
_START = np.log([1.0, 1.0, 1.0, 1.0])
_BOUNDS = [
    (np.log(1e-4), np.log(1e4)),  # r
    (np.log(1e-4), np.log(1e7)),  # alpha
    (np.log(1e-4), np.log(1e4)),  # a
    (np.log(1e-4), np.log(1e5)),  # b
]


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    converged: bool = True
    iterations: int = 0


def validate_inputs(x, t_x, t_age):
    """Arrays of floats; ValueError for impossible customers."""
    x, t_x, t_age = (np.asarray(v, dtype=float) for v in (x, t_x, t_age))
    if not x.shape == t_x.shape == t_age.shape:
        raise ValueError("frequency, recency and age need one value per customer.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(t_age))):
        raise ValueError("frequency, recency and age must be finite numbers.")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_age < 0):
        raise ValueError("frequency, recency and age cannot be negative.")
    if np.any(t_x > t_age + 1e-9):
        raise ValueError("The last purchase (recency) cannot come after the age of the customer.")
    if np.any((x > 0) & (t_x <= 0)):
        raise ValueError("A customer with repeat purchases must have a positive recency.")
    return x, t_x, t_age


def _log_likelihood_terms(log_params, x, t_x, t_age, with_gradient):
    r, alpha, a, b = np.exp(log_params)
    repeat = x > 0
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    log_alpha_age = np.log(alpha + t_age)
    log_alpha_recency = np.log(alpha + t_x)
    a3 = -(r + x) * log_alpha_age
    # Only repeat customers may have dropped out after their last purchase.
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(repeat, np.log(a) - np.log(b_x1) - (r + x) * log_alpha_recency, -np.inf)
    mixture = np.logaddexp(a3, a4)
    terms = a1 + a2 + mixture
    if not with_gradient:
        return terms, None
    w3 = np.exp(a3 - mixture)
    w4 = np.exp(a4 - mixture)
    psi_r_x = special.digamma(r + x)
    d_r = psi_r_x - special.digamma(r) + np.log(alpha) - w3 * log_alpha_age - w4 * log_alpha_recency
    d_alpha = r / alpha - w3 * (r + x) / (alpha + t_age) - w4 * (r + x) / (alpha + t_x)
    psi_ab = special.digamma(a + b)
    psi_abx = special.digamma(a + b + x)
    d_a = psi_ab - psi_abx + w4 / a
    d_b = psi_ab + special.digamma(b + x) - special.digamma(b) - psi_abx - w4 / b_x1
    # Chain rule for the log parameters.
    gradient = np.stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return terms, gradient


def log_likelihood(params, x, t_x, t_age, weights=None):
    """Total log-likelihood of the customers under ``params``."""
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    log_params = np.log([params.r, params.alpha, params.a, params.b])
    terms, _gradient = _log_likelihood_terms(log_params, x, t_x, t_age, False)
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    return float(weights @ terms)


def compress(x, t_x, t_age):
    """Identical customers once each, with their count as weight."""
    rows = np.stack([x, t_x, t_age], axis=1)
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    return unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(float)


def fit(x, t_x, t_age, weights=None, penalizer=0.0):
    """Maximum-likelihood parameters, optimised with L-BFGS-B on the analytic
    gradient. ``weights`` counts identical customers; ``penalizer`` adds an L2
    penalty on the parameters (as lifetimes' ``penalizer_coef``)."""
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    if weights is None:
        x, t_x, t_age, weights = compress(x, t_x, t_age)
    else:
        weights = np.asarray(weights, dtype=float)
    if x.size == 0 or not np.any(x > 0):
        raise ValueError("BG/NBD needs customers with repeat purchases.")
    total = weights.sum()
    start = _START.copy()
    start[1] = np.log(max(float(np.average(t_age, weights=weights)), 1e-3))

    def objective(log_params):
        terms, gradient = _log_likelihood_terms(log_params, x, t_x, t_age, True)
        params = np.exp(log_params)
        value = -(weights @ terms) / total + penalizer * np.sum(params**2)
        grad = -(gradient @ weights) / total + penalizer * 2 * params**2
        return value, grad

    result = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=_BOUNDS,
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
    )
    r, alpha, a, b = np.exp(result.x)
    if not np.all(np.isfinite([r, alpha, a, b])):
        raise ArithmeticError("The BG/NBD fit did not reach finite parameters.")
    params = BgNbdParams(r, alpha, a, b)
    return BgNbdParams(
        float(r),
        float(alpha),
        float(a),
        float(b),
        log_likelihood=log_likelihood(params, x, t_x, t_age, weights),
        converged=bool(result.success),
        iterations=int(result.nit),
    )


def _log_dropout_odds(params, x, t_x, t_age):
    """log of [a / (b + x - 1)] * [(alpha + T) / (alpha + t_x)]^(r + x), the
    odds that a repeat customer dropped out; -inf for x = 0."""
    repeat = x > 0
    b_x1 = np.where(repeat, params.b + x - 1, 1.0)
    log_odds = (
        np.log(params.a)
        - np.log(b_x1)
        + (params.r + x) * (np.log(params.alpha + t_age) - np.log(params.alpha + t_x))
    )
    return np.where(repeat, log_odds, -np.inf)


def p_alive(params, x, t_x, t_age):
    """Probability that each customer is still active at their age T.

    Customers without a repeat purchase get exactly 1: in BG/NBD a customer
    can only drop out right after a purchase. Use another signal for them."""
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    return special.expit(-_log_dropout_odds(params, x, t_x, t_age))


def _expected_if_alive(params, t, x, t_age):
    """Expected purchases in (T, T + t] for a customer who is still active."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    # The closed form holds on both sides of a = 1 (both factors change
    # sign); at exactly 1 it is 0/0, so step aside by a negligible amount.
    a = a if abs(a - 1.0) > 1e-9 else 1.0 + 1e-9
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t_age + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    ratio = np.exp((r + x) * (np.log(alpha + t_age) - np.log(alpha + t_age + t)))
    return (a + b + x - 1) / (a - 1) * (1.0 - ratio * hyp)


def conditional_expected_purchases(params, t, x, t_x, t_age):
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units."""
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    return p_alive(params, x, t_x, t_age) * _expected_if_alive(params, t, x, t_age)


def expected_purchases(params, t):
    """E[X(t)]: expected purchases of a new customer in their first ``t``."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a = a if abs(a - 1.0) > 1e-9 else 1.0 + 1e-9
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    hyp = special.hyp2f1(r, b, a + b - 1, z)
    return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp)


def expected_time_to_next_purchase(params, x, t_x, t_age, max_time, iterations=30):
    """Time from T until one more purchase is expected (E[Y(t)] reaches 1),
    by bisection; NaN for customers who are not expected to buy again within
    ``max_time`` (typically those likely to have left)."""
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    result = np.full(x.shape, np.nan)
    alive = p_alive(params, x, t_x, t_age)

    def expected(t, mask):
        return alive[mask] * _expected_if_alive(params, t, x[mask], t_age[mask])

    reaches = np.zeros(x.shape, dtype=bool)
    if x.size:
        reaches = expected(np.full(x.shape, float(max_time)), slice(None)) >= 1.0
    if not reaches.any():
        return result
    low = np.zeros(int(reaches.sum()))
    high = np.full(low.shape, float(max_time))
    for _iteration in range(iterations):
        middle = (low + high) / 2
        above = expected(middle, reaches) >= 1.0
        high = np.where(above, middle, high)
        low = np.where(above, low, middle)
    result[reaches] = high
    return result
