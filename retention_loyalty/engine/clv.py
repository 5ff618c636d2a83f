"""Using the purchase and order-value models: choose the purchase model (BG/NBD
or, with too little data, a purchase-rhythm heuristic), discounted customer
lifetime value, and a holdout check of the purchase predictions.

Time unit: frequency ``x``, recency ``t_x``, age ``T``, horizons and gaps are
all in one unit chosen by the caller (the unit the BG/NBD model is fitted in).
Lifetime value is summed month by month; the caller states how many of its
time units make a month with ``periods_per_month`` (e.g. :data:`WEEKS_PER_MONTH`
for data in weeks, :data:`DAYS_PER_MONTH` for days; lifetimes uses 4.345
weeks and 30 days).
"""

from dataclasses import dataclass

import numpy as np

from . import bgnbd, gamma_gamma

DAYS_PER_MONTH = 365.25 / 12  # 30.44
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7  # 4.348

METHOD_BGNBD = "bgnbd"
METHOD_HEURISTIC = "heuristic"


@dataclass(frozen=True)
class PurchaseModel:
    """The purchase model chosen by :func:`fit_or_fallback`.

    ``method`` is ``"bgnbd"`` (``params`` holds the fitted BG/NBD) or
    ``"heuristic"`` (``params`` is None); ``reason`` says in a sentence why
    that method runs. ``typical_gap`` is the median of the repeat customers'
    mean time between purchases (in the data's time unit), which the
    heuristic uses for customers with little history of their own.

    The heuristic measures each customer against their own purchase rhythm:

    - usual gap: the customer's mean gap ``t_x / x`` shrunk toward the
      typical gap by one extra pseudo-gap, ``g_i = (t_x + typical_gap) / (x + 1)``
      (the typical gap itself for one-order customers);
    - overdue: time since the last purchase in usual gaps, ``(T - t_x) / g_i``;
    - P(alive) = 1 until one usual gap has passed, then
      ``exp(-(overdue - 1))``: it falls by a factor e with every further gap
      of silence. A score with that shape, not a fitted probability;
    - expected purchases in the next ``t``: ``P(alive) * t / g_i``, buying at
      their usual rhythm while active.
    """

    method: str
    reason: str
    typical_gap: float
    params: bgnbd.BgNbdParams | None = None

    def usual_gaps(self, x, t_x, t_age):
        """Each customer's usual time between purchases (heuristic)."""
        x, t_x, t_age = bgnbd.validate_inputs(x, t_x, t_age)
        return (t_x + self.typical_gap) / (x + 1)

    def p_alive(self, x, t_x, t_age):
        """P(alive) of each customer at their age T (BG/NBD, or the
        heuristic score described in the class)."""
        if self.method == METHOD_BGNBD:
            return bgnbd.p_alive(self.params, x, t_x, t_age)
        x, t_x, t_age = bgnbd.validate_inputs(x, t_x, t_age)
        overdue = (t_age - t_x) / self.usual_gaps(x, t_x, t_age)
        return np.exp(-np.maximum(overdue - 1.0, 0.0))

    def conditional_expected_purchases(self, t, x, t_x, t_age):
        """Expected purchases of each customer in the next ``t`` time units."""
        if self.method == METHOD_BGNBD:
            return bgnbd.conditional_expected_purchases(self.params, t, x, t_x, t_age)
        t = np.asarray(t, dtype=float)
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise ValueError("The prediction horizon t must be a finite number, 0 or more.")
        return self.p_alive(x, t_x, t_age) * t / self.usual_gaps(x, t_x, t_age)


def typical_gap(x, t_x, weights=None, default=None):
    """Median of the repeat customers' mean time between purchases ``t_x / x``
    (weighted by ``weights``). Without repeat customers: ``default``, or 1.0
    time unit when that is None."""
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    repeat = (x > 0) & (weights > 0)
    if not repeat.any():
        return 1.0 if default is None else float(default)
    gaps = t_x[repeat] / x[repeat]
    order = np.argsort(gaps)
    gaps, cumulative = gaps[order], np.cumsum(weights[repeat][order])
    half = cumulative[-1] / 2
    # Weighted median: the mean of the two middle values when they straddle.
    low = gaps[np.searchsorted(cumulative, half, side="left")]
    high = gaps[min(np.searchsorted(cumulative, half, side="right"), gaps.size - 1)]
    return float((low + high) / 2)


def _heuristic(reason, gap):
    return PurchaseModel(method=METHOD_HEURISTIC, reason=reason, typical_gap=gap)


def fit_or_fallback(
    x,
    t_x,
    t_age,
    weights=None,
    min_repeat_customers=20,
    penalizer=0.0,
    default_gap=None,
):
    """Fit BG/NBD, or fall back to the purchase-rhythm heuristic (see
    :class:`PurchaseModel`) and say why.

    The heuristic runs when fewer than ``min_repeat_customers`` customers
    (counting ``weights``) have a repeat purchase, when the fit raises,
    when the optimiser does not converge, or when the fitted parameters give
    non-finite predictions. ``default_gap`` is the typical gap to use when no
    customer has bought twice (1.0 time unit when None). Invalid customers
    (negative values, recency after age) raise ValueError as in
    :func:`bgnbd.validate_inputs`.
    """
    x, t_x, t_age = bgnbd.validate_inputs(x, t_x, t_age)
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != x.shape:
            raise ValueError("weights need one value per customer.")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("weights must be finite and not negative.")
    if default_gap is not None and not (np.isfinite(default_gap) and default_gap > 0):
        raise ValueError("The default gap must be a positive number.")
    gap = typical_gap(x, t_x, weights, default_gap)
    counts = np.ones_like(x) if weights is None else weights
    n_repeat = float(counts[x > 0].sum())
    if n_repeat < min_repeat_customers:
        return _heuristic(
            f"{n_repeat:g} customers with a repeat purchase, fewer than the "
            f"{min_repeat_customers} BG/NBD needs: scores follow each customer's purchase "
            f"rhythm (typical gap {gap:.3g}).",
            gap,
        )
    try:
        params = bgnbd.fit(x, t_x, t_age, weights=weights, penalizer=penalizer)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
        return _heuristic(
            f"The BG/NBD fit failed ({error}): scores follow each customer's purchase "
            f"rhythm (typical gap {gap:.3g}).",
            gap,
        )
    if not params.converged:
        return _heuristic(
            f"The BG/NBD fit did not converge ({params.message}): scores follow each "
            f"customer's purchase rhythm (typical gap {gap:.3g}).",
            gap,
        )
    horizon = max(float(np.max(t_age)), 1.0) if t_age.size else 1.0
    with np.errstate(all="ignore"):
        check = bgnbd.conditional_expected_purchases(params, horizon, x, t_x, t_age)
    if not np.all(np.isfinite(check)):
        return _heuristic(
            f"The fitted BG/NBD parameters (r={params.r:.3g}, alpha={params.alpha:.3g}, "
            f"a={params.a:.3g}, b={params.b:.3g}) give undefined predictions: scores follow "
            f"each customer's purchase rhythm (typical gap {gap:.3g}).",
            gap,
        )
    total = float(counts.sum())
    return PurchaseModel(
        method=METHOD_BGNBD,
        reason=(
            f"BG/NBD fitted on {total:g} customers, {n_repeat:g} with repeat purchases "
            f"(log-likelihood {params.log_likelihood:.1f})."
        ),
        typical_gap=gap,
        params=params,
    )


def _as_purchase_model(model):
    if isinstance(model, PurchaseModel):
        return model
    if isinstance(model, bgnbd.BgNbdParams):
        return PurchaseModel(METHOD_BGNBD, "Given BG/NBD parameters.", float("nan"), model)
    raise TypeError("Expected a PurchaseModel or BgNbdParams.")


def _validate_horizon(periods_per_month, horizon_months, monthly_discount_rate):
    if not (np.isfinite(periods_per_month) and periods_per_month > 0):
        raise ValueError("periods_per_month must be a positive number.")
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise ValueError("The horizon must be a whole number of months, 1 or more.")
    if not (np.isfinite(monthly_discount_rate) and monthly_discount_rate >= 0):
        raise ValueError("The monthly discount rate must be a number, 0 or more.")


def discounted_expected_purchases(
    model,
    x,
    t_x,
    t_age,
    periods_per_month,
    horizon_months=12,
    monthly_discount_rate=0.01,
):
    """Expected purchases of each customer month by month over the horizon,
    each month discounted to today:

        sum over i = 1..H of (E[Y(i k)] - E[Y((i - 1) k)]) / (1 + d)^i

    with k = ``periods_per_month`` time units a month, H = ``horizon_months``
    and d = ``monthly_discount_rate``. ``model`` is a :class:`PurchaseModel`
    or :class:`bgnbd.BgNbdParams`. Times the expected value of an order, it
    is the lifetime value.
    """
    _validate_horizon(periods_per_month, horizon_months, monthly_discount_rate)
    model = _as_purchase_model(model)
    x, t_x, t_age = bgnbd.validate_inputs(x, t_x, t_age)
    months = np.arange(1, int(horizon_months) + 1)
    total = np.zeros(x.shape)
    previous = np.zeros(x.shape)
    for month in months:
        cumulative = model.conditional_expected_purchases(month * periods_per_month, x, t_x, t_age)
        total += (cumulative - previous) / (1.0 + monthly_discount_rate) ** month
        previous = cumulative
    return total


def customer_lifetime_value(
    model,
    value_params,
    x,
    t_x,
    t_age,
    monetary,
    periods_per_month,
    horizon_months=12,
    monthly_discount_rate=0.01,
):
    """Discounted value of each customer's expected purchases over the next
    ``horizon_months`` months, as lifetimes' ``customer_lifetime_value``:
    :func:`discounted_expected_purchases` times the expected order value.

    With Gamma-Gamma parameters ``value_params`` the order value is
    :func:`gamma_gamma.conditional_expected_value` of ``monetary`` (the mean
    value of the repeat purchases; ignored for x = 0); with None,
    ``monetary`` is taken as the expected order value itself (e.g. each
    customer's average order value when the heuristic runs).
    """
    monetary = np.asarray(monetary, dtype=float)
    if value_params is None:
        order_value = monetary
        if np.shape(order_value) != np.shape(x):
            raise ValueError("monetary value needs one value per customer.")
    else:
        order_value = gamma_gamma.conditional_expected_value(value_params, x, monetary)
    purchases = discounted_expected_purchases(
        model,
        x,
        t_x,
        t_age,
        periods_per_month,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
    )
    return order_value * purchases


@dataclass(frozen=True)
class FrequencyBucket:
    """Customers with ``frequency`` repeat purchases in the calibration period
    (the last bucket: that many or more) and their mean predicted and actual
    purchases in the holdout period."""

    frequency: int
    customers: int
    predicted_mean: float
    actual_mean: float


@dataclass(frozen=True)
class HoldoutCheck:
    """Predicted against actual purchases in a holdout period.

    ``ratio`` is predicted / actual total (1 is perfect; NaN without any
    actual purchase); ``mean_absolute_error`` is per customer, in purchases;
    ``buckets`` compares the means by calibration frequency, the classic
    "conditional expectations" plot of Fader, Hardie & Lee (2005).
    """

    method: str
    customers: int
    holdout_length: float
    predicted_total: float
    actual_total: float
    ratio: float
    mean_absolute_error: float
    buckets: tuple[FrequencyBucket, ...]


def holdout_check(model, x, t_x, t_age, actual, holdout_length, max_frequency=7):
    """Compare a model fitted on a calibration period (``x``, ``t_x``, ``T``
    summarised at its end) with the purchases ``actual`` each customer made
    in the ``holdout_length`` time units that followed (repeat purchases,
    counted as ``x`` is). Customers with ``max_frequency`` or more
    calibration purchases share the last bucket."""
    model = _as_purchase_model(model)
    x, t_x, t_age = bgnbd.validate_inputs(x, t_x, t_age)
    actual = np.asarray(actual, dtype=float)
    if actual.shape != x.shape:
        raise ValueError("actual purchases need one value per customer.")
    if not np.all(np.isfinite(actual)) or np.any(actual < 0):
        raise ValueError("actual purchases must be finite and not negative.")
    if not (np.isfinite(holdout_length) and holdout_length > 0):
        raise ValueError("The holdout length must be a positive number.")
    if int(max_frequency) != max_frequency or max_frequency < 1:
        raise ValueError("max_frequency must be a whole number, 1 or more.")
    predicted = model.conditional_expected_purchases(holdout_length, x, t_x, t_age)
    predicted_total, actual_total = float(predicted.sum()), float(actual.sum())
    bucket_of = np.minimum(np.floor(x), max_frequency).astype(int)
    buckets = tuple(
        FrequencyBucket(
            frequency=int(bucket),
            customers=int(np.sum(bucket_of == bucket)),
            predicted_mean=float(predicted[bucket_of == bucket].mean()),
            actual_mean=float(actual[bucket_of == bucket].mean()),
        )
        for bucket in range(int(max_frequency) + 1)
        if np.any(bucket_of == bucket)
    )
    return HoldoutCheck(
        method=model.method,
        customers=int(x.size),
        holdout_length=float(holdout_length),
        predicted_total=predicted_total,
        actual_total=actual_total,
        ratio=predicted_total / actual_total if actual_total > 0 else float("nan"),
        mean_absolute_error=float(np.mean(np.abs(predicted - actual))) if x.size else float("nan"),
        buckets=buckets,
    )
