"""BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005, "Counting your
customers the easy way: an alternative to the Pareto/NBD model", Marketing
Science 24(2), 275-284).

Per customer: ``x`` repeat purchases (purchase occasions after the first),
``t_x`` the time of the last purchase and ``T`` the age, both measured from
the first purchase, in one time unit chosen by the caller (CDNOW uses weeks;
the parameter ``alpha`` and every time ``t`` passed in or returned are in that
unit too). A customer without repeat purchases has ``x = 0`` and ``t_x = 0``.

While active, a customer buys at a Poisson rate (gamma distributed across
customers: r, alpha); after each purchase they may drop out with a
probability (beta distributed: a, b). Everything is computed in log space, so
very small probabilities stay exact instead of becoming 0 or NaN.

Public functions: :func:`fit`, :func:`log_likelihood`, :func:`p_alive`,
:func:`log_p_alive`, :func:`conditional_expected_purchases`,
:func:`expected_purchases`, :func:`expected_time_to_next_purchase`,
:func:`compress`, :func:`validate_inputs`.
"""

from dataclasses import dataclass

import numpy as np
from scipy import integrate, special

from . import mle

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
# The closed form of E[Y(t)] divides by a - 1 (0/0 at a = 1): within this
# distance of 1 it is interpolated between a = 1 - h and a = 1 + h.
_A_NEAR_ONE = 1e-4
MAX_QUADRATURES = 500


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted (or given) BG/NBD parameters with the fit's diagnostics.

    ``log_likelihood`` is the total (weighted) log-likelihood of the fitted
    data, without penalty; ``converged`` says whether the optimiser reached a
    stationary point; ``iterations`` and ``message`` come from the optimiser.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    converged: bool = True
    iterations: int = 0
    message: str = ""


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


def _validate_horizon(t):
    t = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("The prediction horizon t must be a finite number, 0 or more.")
    return t


def _validate_weights(weights, shape):
    weights = np.asarray(weights, dtype=float)
    if weights.shape != shape:
        raise ValueError("weights need one value per customer.")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("weights must be finite and not negative.")
    return weights


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
    """Total log-likelihood of the customers under ``params`` (weighted by
    ``weights``, the number of customers each row stands for)."""
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    log_params = np.log([params.r, params.alpha, params.a, params.b])
    terms, _gradient = _log_likelihood_terms(log_params, x, t_x, t_age, False)
    weights = np.ones_like(x) if weights is None else _validate_weights(weights, x.shape)
    return float(weights @ terms)


def compress(x, t_x, t_age):
    """Identical customers once each, with their count as weight."""
    rows = np.stack([np.ravel(x), np.ravel(t_x), np.ravel(t_age)], axis=1)
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    return unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(float)


def fit(x, t_x, t_age, weights=None, penalizer=0.0):
    """Maximum-likelihood parameters.

    The mean negative log-likelihood (weighted) plus ``penalizer`` times
    r^2 + (alpha / max T)^2 + a^2 + b^2 (lifetimes' ``penalizer_coef``, which
    fits on ages scaled to a maximum of 1) is minimised over the log
    parameters with L-BFGS-B on the analytic gradient. ``weights``
    counts identical customers (see :func:`compress`, applied automatically
    when no weights are given). Raises ValueError without any repeat customer
    and ArithmeticError when no finite parameters are reached; check
    ``converged`` of the result for the optimiser's verdict.
    """
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    x, t_x, t_age = np.ravel(x), np.ravel(t_x), np.ravel(t_age)
    if weights is None:
        x, t_x, t_age, weights = compress(x, t_x, t_age)
    else:
        weights = _validate_weights(np.ravel(weights), x.shape)
    if not np.isfinite(penalizer) or penalizer < 0:
        raise ValueError("The penalizer must be a finite number, 0 or more.")
    if x.size == 0 or not np.any((x > 0) & (weights > 0)):
        raise ValueError("BG/NBD needs customers with repeat purchases.")
    total = weights.sum()
    start = _START.copy()
    start[1] = np.log(max(float(np.average(t_age, weights=weights)), 1e-3))

    # As lifetimes, alpha is penalised in units of the longest age, so that
    # the penalty does not depend on the time unit of the data.
    penalty_scale = np.array([1.0, 1.0 / max(float(t_age.max()), 1e-12), 1.0, 1.0])

    def objective(log_params):
        terms, gradient = _log_likelihood_terms(log_params, x, t_x, t_age, True)
        penalised = np.exp(log_params) * penalty_scale
        value = -(weights @ terms) / total + penalizer * np.sum(penalised**2)
        grad = -(gradient @ weights) / total + penalizer * 2 * penalised**2
        return value, grad

    (r, alpha, a, b), result, converged = mle.minimize_log_params(
        objective, start, _BOUNDS, "BG/NBD"
    )
    params = BgNbdParams(r, alpha, a, b)
    return BgNbdParams(
        params.r,
        params.alpha,
        params.a,
        params.b,
        log_likelihood=log_likelihood(params, x, t_x, t_age, weights),
        converged=converged,
        iterations=int(result.nit),
        message=str(result.message),
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


def log_p_alive(params, x, t_x, t_age):
    """Natural log of :func:`p_alive`: finite even where P(alive) itself
    underflows below the smallest float (about 1e-308)."""
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    return -np.logaddexp(0.0, _log_dropout_odds(params, x, t_x, t_age))


def p_alive(params, x, t_x, t_age):
    """Probability that each customer is still active at their age T
    (Fader, Hardie & Lee 2008, "Computing P(alive) using the BG/NBD model").

    P(alive) = 1 / (1 + [a / (b + x - 1)] [(alpha + T) / (alpha + t_x)]^(r + x))
    for x > 0, evaluated from the log of the odds: tiny probabilities of long
    absent frequent buyers stay exact and positive (until they underflow the
    float range; :func:`log_p_alive` goes further), they are never clamped.

    Customers without a repeat purchase (x = 0) get exactly 1: in BG/NBD a
    customer can only drop out right after a purchase, so someone who never
    bought again cannot have left. That is the model, not a bug; callers
    judge one-order customers with another signal (e.g. their age).
    """
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    return special.expit(-_log_dropout_odds(params, x, t_x, t_age))


def _bounds_if_alive(r, alpha, t, x, t_age):
    """E[Y(t) | alive] = E[(1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p]
    over p ~ Beta(a, b + x); the bracket over p falls from (r + x) t / (alpha + T)
    at p = 0 to its value at p = 1, which bound the expectation."""
    u = t / (alpha + t_age)
    upper = (r + x) * u
    lower = -np.expm1(-(r + x) * np.log1p(u))
    return lower, upper


def _closed_form_if_alive(r, alpha, a, b, t, x, t_age):
    """Equation (10) of Fader, Hardie & Lee (2005) without the P(alive)
    factor; NaN where scipy's hyp2f1 gives no credible value.

    The direct form (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x; a+b+x-1; z)], z = t / (alpha+T+t), overflows in 2F1 for
    frequent buyers. Euler's transformation 2F1(A,B;C;z) =
    (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns it into
    (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)],
    whose 2F1 stays bounded on [0, 1) (C-A-B = r+x > 0): that is tried
    first, the direct form (in log space, as lifetimes) second. Results
    outside the bounds of :func:`_bounds_if_alive` are rejected. (Fader &
    Hardie's note 027, "Overcoming the BG/NBD model's #NUM! error problem",
    discusses the same overflow.)"""
    c = a + b + x - 1
    z = t / (alpha + t_age + t)
    log_ratio = np.log(alpha + t_age) - np.log(alpha + t_age + t)
    factor = c / (a - 1)
    lower, upper = _bounds_if_alive(r, alpha, t, x, t_age)
    slack = 1e-9 * np.maximum(np.abs(factor), upper)
    with np.errstate(all="ignore"):
        euler = factor * (
            -np.expm1((a - 1) * log_ratio)
            - np.exp((a - 1) * log_ratio) * (special.hyp2f1(a + b - 1 - r, a - 1, c, z) - 1.0)
        )
        direct = factor * -np.expm1(
            (r + x) * log_ratio + np.log(special.hyp2f1(r + x, b + x, c, z))
        )
    result = np.full(np.broadcast(euler, direct).shape, np.nan)
    for candidate in (direct, euler):  # the later one wins where credible
        credible = np.isfinite(candidate) & (candidate >= lower - slack)
        credible &= candidate <= upper + slack
        result = np.where(credible, np.clip(candidate, lower, upper), result)
    return result


def _integral_if_alive(r, alpha, a, b, t, x, t_age):
    """E[Y(t) | alive] for one customer by quadrature of the mixture over the
    drop-out probability p ~ Beta(a, b + x), through its quantile function:
    the integrand is bounded and monotone. Slow (milliseconds), used only
    where the closed form fails."""
    n = r + x
    u = t / (alpha + t_age)
    if u == 0:
        return 0.0

    def bracket(q):
        p = special.betaincinv(a, b + x, q)
        if p <= 0:
            return n * u
        return -np.expm1(-n * np.log1p(p * u)) / p

    value, _error = integrate.quad(bracket, 0.0, 1.0, epsabs=0.0, epsrel=1e-10, limit=400)
    return value


def _expected_if_alive_at(r, alpha, a, b, t, x, t_age):
    result = _closed_form_if_alive(r, alpha, a, b, t, x, t_age)
    failed = ~np.isfinite(result)
    # Quadrature costs milliseconds per customer: beyond a few hundred the
    # parameters are pathological, and NaN lets the caller fall back.
    if failed.any() and failed.sum() <= MAX_QUADRATURES:
        t, x, t_age = np.broadcast_arrays(t, x, t_age)
        result[failed] = [
            _integral_if_alive(r, alpha, a, b, t_i, x_i, age_i)
            for t_i, x_i, age_i in zip(t[failed], x[failed], t_age[failed], strict=True)
        ]
    return result


def _expected_if_alive(params, t, x, t_age):
    """Expected purchases in (T, T + t] for a customer who is still active."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=float)
    x = np.asarray(x, dtype=float)
    t_age = np.asarray(t_age, dtype=float)
    if abs(a - 1.0) >= _A_NEAR_ONE:
        return _expected_if_alive_at(r, alpha, a, b, t, x, t_age)
    # E is smooth in a; the closed form is 0/0 at a = 1.
    below = _expected_if_alive_at(r, alpha, 1.0 - _A_NEAR_ONE, b, t, x, t_age)
    above = _expected_if_alive_at(r, alpha, 1.0 + _A_NEAR_ONE, b, t, x, t_age)
    share = (a - (1.0 - _A_NEAR_ONE)) / (2 * _A_NEAR_ONE)
    return below + share * (above - below)


def conditional_expected_purchases(params, t, x, t_x, t_age):
    """E[Y(t) | x, t_x, T]: expected repeat purchases in the next ``t`` time
    units (equation 10 of Fader, Hardie & Lee 2005), i.e. P(alive) times the
    expectation for an active customer. ``t`` is a number or an array that
    broadcasts against the customers."""
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    t = _validate_horizon(t)
    return p_alive(params, x, t_x, t_age) * _expected_if_alive(params, t, x, t_age)


def expected_purchases(params, t):
    """E[X(t)]: expected repeat purchases of a new customer in the first ``t``
    time units after their first purchase (equation 9), e.g. to draw the
    cumulative curve of a cohort against the actual purchases."""
    t = _validate_horizon(t)
    zero = np.zeros_like(t)
    return _expected_if_alive(params, t, zero, zero)


def expected_time_to_next_purchase(params, x, t_x, t_age, max_time, iterations=40):
    """Time from now (age T) until one more purchase is expected.

    Defined as the t at which E[Y(t) | x, t_x, T] reaches 1, found by
    bisection on all customers at once (E[Y(t)] grows with t; the result is
    within ``max_time / 2**iterations`` above the exact time). NaN for the
    customers whose expectation stays below 1 up to ``max_time``: typically
    those who have probably left (small P(alive)) or buy very rarely.
    """
    x, t_x, t_age = validate_inputs(x, t_x, t_age)
    if not np.isfinite(max_time) or max_time <= 0:
        raise ValueError("max_time must be a positive number.")
    result = np.full(x.shape, np.nan)
    alive = p_alive(params, x, t_x, t_age)

    def expected(t, mask):
        return alive[mask] * _expected_if_alive(params, t, x[mask], t_age[mask])

    if not x.size:
        return result
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
