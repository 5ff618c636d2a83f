"""From purchase summaries to retention scores: P(alive), expected orders,
expected order value, lifetime value, value at stake, overdue ratio, risk and
the next order (or since when it is overdue).

Two methods, and the result says which one ran:

- ``bgnbd``: BG/NBD for the purchase process and Gamma-Gamma for order values,
  fitted by maximum likelihood on all customers of a company (time in weeks);
- ``heuristic``: with too few repeat customers for a model (or when the fit
  fails), each customer is expected to keep buying at their usual rhythm while
  alive.

Either way the figures shown together are made to agree (readme/USAGE.md):

- the **rhythm** P(alive) is 1 until the usual gap has passed and then decays
  as exp(-(overdue - 1)); P(alive) is the lower of it and the model's (BG/NBD
  gives one-order customers 1 whatever their age);
- the **value if they stay** is the discounted value over the horizon of a
  customer still active; the lifetime value is that times P(alive) and the
  value at stake that times 1 - P(alive): the two add up to it;
- the next order is due one usual gap after the last; past that day the
  customer is overdue since then and has no next order date.

Days are the unit of the summaries; models work in weeks; the lifetime value
is summed month by month over the horizon and discounted monthly.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from . import bgnbd, gamma_gamma
from .segments import RiskThresholds, overdue_ratio, risk_levels, usual_gap_days

DAYS_PER_WEEK = 7.0
DAYS_PER_MONTH = 365.25 / 12
DEFAULT_TYPICAL_GAP_DAYS = 90.0
NEXT_ORDER_MIN_P_ALIVE = 0.5


@dataclass
class PurchaseSummary:
    """One entry per customer: their purchase history reduced to what the
    models need, as of ``end``. Dates are ordinals (``date.toordinal()``)."""

    end: date
    partner_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    first_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    last_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    order_count: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    frequency: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    revenue_total: np.ndarray = field(default_factory=lambda: np.zeros(0))
    revenue_12m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mean_gap_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    median_gap_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    repeat_order_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    average_order_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    second_purchase_gap_days: np.ndarray = field(default_factory=lambda: np.zeros(0))

    ARRAYS = (
        "partner_ids",
        "first_day",
        "last_day",
        "order_count",
        "frequency",
        "revenue_total",
        "revenue_12m",
        "mean_gap_days",
        "median_gap_days",
        "repeat_order_value",
        "average_order_value",
        "second_purchase_gap_days",
    )

    @classmethod
    def empty(cls, end):
        return cls(end=end)

    @classmethod
    def from_rows(cls, rows, end):
        """Rows of (partner id, first date, last date, orders, purchase days,
        revenue, revenue 12 months, mean gap, median gap, mean repeat purchase
        amount, average order value, days from the first to the second
        purchase); None means "not defined"."""
        if not rows:
            return cls.empty(end)
        columns = list(zip(*rows, strict=True))

        def floats(index):
            return np.array([np.nan if v is None else float(v) for v in columns[index]])

        return cls(
            end=end,
            partner_ids=np.array(columns[0], dtype=np.int64),
            first_day=np.array([d.toordinal() for d in columns[1]], dtype=np.int64),
            last_day=np.array([d.toordinal() for d in columns[2]], dtype=np.int64),
            order_count=np.array(columns[3], dtype=np.int64),
            frequency=np.array(columns[4], dtype=np.int64) - 1,
            revenue_total=np.nan_to_num(floats(5)),
            revenue_12m=np.nan_to_num(floats(6)),
            mean_gap_days=floats(7),
            median_gap_days=floats(8),
            repeat_order_value=floats(9),
            average_order_value=np.nan_to_num(floats(10)),
            second_purchase_gap_days=floats(11),
        )

    @classmethod
    def concat(cls, first, second):
        if first.end != second.end:
            raise ValueError("Summaries of different dates cannot be combined.")
        return cls(
            end=first.end,
            **{
                name: np.concatenate([getattr(first, name), getattr(second, name)])
                for name in cls.ARRAYS
            },
        )

    @property
    def size(self):
        return len(self.partner_ids)

    @property
    def recency_days(self):
        return (self.last_day - self.first_day).astype(float)

    @property
    def age_days(self):
        return (self.end.toordinal() - self.first_day).astype(float)

    @property
    def days_since_last(self):
        return self.end.toordinal() - self.last_day

    def first_dates(self):
        return [date.fromordinal(int(day)) for day in self.first_day]

    def last_dates(self):
        return [date.fromordinal(int(day)) for day in self.last_day]


@dataclass(frozen=True)
class ScoringSettings:
    horizon_months: int = 12
    monthly_discount_rate: float = 0.01
    min_repeat_customers: int = 30
    risk_thresholds: RiskThresholds = field(default_factory=RiskThresholds)

    def validate(self):
        if not 1 <= self.horizon_months <= 120:
            raise ValueError("The lifetime value horizon must be 1 to 120 months.")
        if not 0 <= self.monthly_discount_rate < 1:
            raise ValueError("The monthly discount rate must be between 0 and 1.")
        if self.min_repeat_customers < 2:
            raise ValueError("The model needs at least 2 repeat customers.")
        self.risk_thresholds.validate()
        return self


@dataclass(frozen=True)
class FittedModel:
    method: str
    note: str
    typical_gap_days: float
    bgnbd_params: object = None
    gamma_params: object = None
    # None (a fit stored before it was measured): the typical gap.
    typical_second_order_gap_days: float = None

    @property
    def second_order_gap_days(self):
        return self.typical_second_order_gap_days or self.typical_gap_days

    def parameter_values(self):
        values = {}
        if self.bgnbd_params is not None:
            values.update(
                bgnbd_r=self.bgnbd_params.r,
                bgnbd_alpha=self.bgnbd_params.alpha,
                bgnbd_a=self.bgnbd_params.a,
                bgnbd_b=self.bgnbd_params.b,
                bgnbd_log_likelihood=self.bgnbd_params.log_likelihood,
            )
        if self.gamma_params is not None:
            values.update(
                gamma_p=self.gamma_params.p,
                gamma_q=self.gamma_params.q,
                gamma_v=self.gamma_params.v,
            )
        return values


@dataclass
class ScoringResult:
    method: str
    p_alive: np.ndarray
    expected_orders: np.ndarray
    next_order_days: np.ndarray  # days after the summary's end; NaN: not expected
    expected_order_value: np.ndarray
    clv: np.ndarray
    value_at_stake: np.ndarray
    overdue: np.ndarray
    risk_index: np.ndarray
    usual_gap_days: np.ndarray
    value_if_retained: np.ndarray
    overdue_since_days: np.ndarray  # days after the summary's end (<= 0); NaN: not overdue

    @staticmethod
    def _dates(today, days):
        return [
            None if not np.isfinite(day) else today + timedelta(days=int(day))
            for day in days.tolist()
        ]

    def next_order_dates(self, today):
        return self._dates(today, self.next_order_days)

    def overdue_since_dates(self, today):
        return self._dates(today, self.overdue_since_days)


@dataclass(frozen=True)
class HoldoutQuality:
    customers: int
    predicted: float
    actual: float
    ratio: float
    mean_absolute_error: float
    # Pearson correlation, over customers, of predicted and actual purchases
    # in the window (NaN when either side does not vary).
    correlation: float = float("nan")
    calibration: tuple = ()


@dataclass(frozen=True)
class CalibrationBucket:
    """Customers with ``repeat_purchases`` repeat purchases in the calibration
    period (the last bucket: that many or more), and their average actual and
    predicted repeat purchases in the holdout window."""

    repeat_purchases: int
    open_ended: bool
    customers: int
    actual_average: float
    predicted_average: float


CALIBRATION_TOP_BUCKET = 7


def calibration_table(calibration_frequency, actual, predicted, top_bucket=CALIBRATION_TOP_BUCKET):
    """The conditional-expectation table of Fader, Hardie & Lee (2005, figure
    5): customers grouped by their repeat purchases in the calibration period,
    0, 1, ..., ``top_bucket`` or more, with the average actual and predicted
    repeat purchases of each group in the holdout window. Empty groups are
    left out (no average to show)."""
    frequency = np.asarray(calibration_frequency, dtype=float)
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    if not frequency.shape == actual.shape == predicted.shape:
        raise ValueError(
            "The calibration table needs one frequency, actual and prediction per customer."
        )
    buckets = np.minimum(frequency, top_bucket).astype(int)
    customers = np.bincount(buckets, minlength=top_bucket + 1)
    actual_sums = np.bincount(buckets, weights=actual, minlength=top_bucket + 1)
    predicted_sums = np.bincount(buckets, weights=predicted, minlength=top_bucket + 1)
    return tuple(
        CalibrationBucket(
            repeat_purchases=bucket,
            open_ended=bucket == top_bucket,
            customers=int(customers[bucket]),
            actual_average=float(actual_sums[bucket] / customers[bucket]),
            predicted_average=float(predicted_sums[bucket] / customers[bucket]),
        )
        for bucket in range(top_bucket + 1)
        if customers[bucket]
    )


def holdout_correlation(actual, predicted):
    """Pearson correlation of predicted and actual purchases over customers;
    NaN with fewer than 2 customers or when one side is constant."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    if actual.size < 2 or np.ptp(actual) == 0 or np.ptp(predicted) == 0:
        return float("nan")
    return float(np.corrcoef(predicted, actual)[0, 1])


def typical_gap_days(summary):
    """Median of the repeat customers' median gaps between purchase days."""
    gaps = summary.median_gap_days[(summary.frequency > 0) & np.isfinite(summary.median_gap_days)]
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else DEFAULT_TYPICAL_GAP_DAYS


def typical_second_order_gap_days(summary):
    """Median days from the first to the second purchase of the repeat
    customers: how long a one-order customer may take before being late."""
    gaps = summary.second_purchase_gap_days[
        (summary.frequency > 0) & np.isfinite(summary.second_purchase_gap_days)
    ]
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else typical_gap_days(summary)


def fit(summary, settings):
    """Fit BG/NBD and Gamma-Gamma, or choose the rhythm heuristic and say why."""
    settings.validate()
    gap = typical_gap_days(summary)
    second_gap = typical_second_order_gap_days(summary)
    repeat = summary.frequency > 0
    n_repeat = int(repeat.sum())
    if n_repeat < settings.min_repeat_customers:
        return FittedModel(
            method="heuristic",
            note=(
                f"{n_repeat} customers with a repeat purchase, fewer than the "
                f"{settings.min_repeat_customers} the statistical model needs: scores follow "
                f"each customer's purchase rhythm (typical gap {gap:.0f} days)."
            ),
            typical_gap_days=gap,
            typical_second_order_gap_days=second_gap,
        )
    x, t_x, t_age = _bgnbd_inputs(summary)
    try:
        purchase_params = bgnbd.fit(x, t_x, t_age)
        monetary = summary.repeat_order_value
        usable = repeat & np.isfinite(monetary) & (monetary > 0)
        value_params = gamma_gamma.fit(summary.frequency[usable], monetary[usable])
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
        return FittedModel(
            method="heuristic",
            note=f"The statistical model could not be fitted ({error}); scores follow "
            f"each customer's purchase rhythm (typical gap {gap:.0f} days).",
            typical_gap_days=gap,
            typical_second_order_gap_days=second_gap,
        )
    check = bgnbd.conditional_expected_purchases(purchase_params, 52.0, x, t_x, t_age)
    if not np.all(np.isfinite(check)) or np.any(check < 0):
        return FittedModel(
            method="heuristic",
            note=f"The fitted model gives undefined predictions ({purchase_params}); scores "
            f"follow each customer's purchase rhythm (typical gap {gap:.0f} days).",
            typical_gap_days=gap,
            typical_second_order_gap_days=second_gap,
        )
    correlation = gamma_gamma.frequency_value_correlation(
        summary.frequency[usable], monetary[usable]
    )
    note = (
        f"Fitted on {summary.size} customers, {n_repeat} with repeat purchases. "
        f"Correlation between purchase frequency and order value: {correlation:.2f}"
    )
    if abs(correlation) > 0.3:
        note += " (high: the order-value model assumes they are independent)"
    not_positive = int((repeat & ~usable).sum())
    if not_positive:
        note += (
            f". {not_positive} repeat customers without a positive average order value "
            "(margin) are left out of the order-value model and keep their own average"
        )
    return FittedModel(
        method="bgnbd",
        note=note + ".",
        typical_gap_days=gap,
        typical_second_order_gap_days=second_gap,
        bgnbd_params=purchase_params,
        gamma_params=value_params,
    )


def customer_usual_gaps(summary, fitted):
    return usual_gap_days(
        summary.frequency,
        summary.median_gap_days,
        fitted.typical_gap_days,
        fitted.second_order_gap_days,
    )


def score(summary, fitted, settings):
    """Scores of every customer in ``summary`` with a fitted model."""
    settings.validate()
    gaps = customer_usual_gaps(summary, fitted)
    overdue = overdue_ratio(summary.days_since_last, gaps)
    if fitted.method == "bgnbd":
        model_p_alive, orders_if_alive, order_value, value_if_retained = _score_bgnbd(
            summary, fitted, settings
        )
    else:
        model_p_alive = np.ones(summary.size)
        orders_if_alive, order_value, value_if_retained = _score_heuristic(summary, gaps, settings)
    p_alive = np.minimum(model_p_alive, _rhythm_p_alive(overdue))
    # Due one usual gap after the last order; past it, overdue since that day.
    due_days = np.ceil(gaps - summary.days_since_last)
    is_overdue = overdue > 1.0
    # A next order date for customers who have more likely left than not
    # would read as a promise; they get none.
    next_days = np.where(~is_overdue & (p_alive >= NEXT_ORDER_MIN_P_ALIVE), due_days, np.nan)
    return ScoringResult(
        method=fitted.method,
        p_alive=p_alive,
        expected_orders=p_alive * orders_if_alive,
        next_order_days=next_days,
        expected_order_value=order_value,
        clv=p_alive * value_if_retained,
        value_at_stake=(1.0 - p_alive) * value_if_retained,
        overdue=overdue,
        risk_index=risk_levels(p_alive, overdue, settings.risk_thresholds),
        usual_gap_days=gaps,
        value_if_retained=value_if_retained,
        overdue_since_days=np.where(is_overdue, due_days, np.nan),
    )


def holdout_quality(calibration, actual_counts, holdout_days, settings):
    """Fit on the calibration summary and compare the predicted repeat
    purchases in the next ``holdout_days`` with ``actual_counts``: totals,
    per-customer error and correlation, and the calibration table by
    calibration-period repeat purchases (:func:`calibration_table`)."""
    actual_counts = np.asarray(actual_counts, dtype=float)
    fitted = fit(calibration, settings)
    horizon_weeks = holdout_days / DAYS_PER_WEEK
    if fitted.method == "bgnbd":
        x, t_x, t_age = _bgnbd_inputs(calibration)
        predicted = bgnbd.conditional_expected_purchases(
            fitted.bgnbd_params, horizon_weeks, x, t_x, t_age
        )
    else:
        gaps = customer_usual_gaps(calibration, fitted)
        overdue = overdue_ratio(calibration.days_since_last, gaps)
        predicted = _rhythm_p_alive(overdue) * holdout_days / gaps
    total_actual = float(actual_counts.sum())
    total_predicted = float(predicted.sum())
    return HoldoutQuality(
        customers=calibration.size,
        predicted=total_predicted,
        actual=total_actual,
        ratio=total_predicted / total_actual if total_actual else float("nan"),
        mean_absolute_error=float(np.mean(np.abs(predicted - actual_counts)))
        if calibration.size
        else float("nan"),
        correlation=holdout_correlation(actual_counts, predicted),
        calibration=calibration_table(calibration.frequency, actual_counts, predicted),
    )


def _bgnbd_inputs(summary):
    return (
        summary.frequency.astype(float),
        summary.recency_days / DAYS_PER_WEEK,
        summary.age_days / DAYS_PER_WEEK,
    )


def _monthly_discount_factors(settings):
    months = np.arange(1, settings.horizon_months + 1)
    return 1.0 / (1.0 + settings.monthly_discount_rate) ** months


def _score_bgnbd(summary, fitted, settings):
    params = fitted.bgnbd_params
    x, t_x, t_age = _bgnbd_inputs(summary)
    p_alive = bgnbd.p_alive(params, x, t_x, t_age)
    order_value = own_value_if_not_positive(
        summary,
        gamma_gamma.conditional_expected_value(
            fitted.gamma_params, summary.frequency, np.nan_to_num(summary.repeat_order_value)
        ),
    )
    # Cumulative expected purchases at the end of each month of the horizon.
    weeks = np.arange(0, settings.horizon_months + 1) * DAYS_PER_MONTH / DAYS_PER_WEEK
    cumulative = np.stack(
        [bgnbd.conditional_expected_purchases(params, w, x, t_x, t_age) for w in weeks[1:]],
        axis=1,
    )
    monthly = np.diff(np.hstack([np.zeros((summary.size, 1)), cumulative]), axis=1)
    clv = order_value * (monthly @ _monthly_discount_factors(settings))
    # E[purchases | x, t_x, T] = P(alive) * E[purchases | alive]: what a
    # customer brings if they stay is the model's expectation over P(alive).
    with np.errstate(divide="ignore", invalid="ignore"):
        orders_if_alive = np.where(p_alive > 0, cumulative[:, -1] / p_alive, 0.0)
        value_if_retained = np.where(p_alive > 0, clv / p_alive, 0.0)
    return p_alive, orders_if_alive, order_value, value_if_retained


def _rhythm_p_alive(overdue):
    return np.exp(-np.maximum(overdue - 1.0, 0.0))


def own_value_if_not_positive(summary, model_value):
    """Order values valued in margin may be 0 or negative; Gamma-Gamma is
    defined for positive values only (it is fitted without them). A customer
    whose purchases brought no positive margin on average keeps that average
    as their expected order value: never shrunk toward the population's
    positive mean, so their lifetime value stays at or below 0. Customers with
    repeat purchases are judged by their repeat purchases (the model's input);
    one-order customers, whom the model gives the population mean, keep their
    own order value only when it is negative."""
    repeat = summary.frequency > 0
    repeat_value = np.nan_to_num(summary.repeat_order_value)
    return np.where(
        repeat & (repeat_value <= 0),
        repeat_value,
        np.where(
            ~repeat & (summary.average_order_value < 0), summary.average_order_value, model_value
        ),
    )


def _score_heuristic(summary, gaps, settings):
    orders_per_month = DAYS_PER_MONTH / gaps
    # A customer's own average order value, negative ones (margins) included:
    # the population mean would turn a loss-making customer positive.
    order_value = np.where(
        summary.average_order_value != 0,
        summary.average_order_value,
        float(np.mean(summary.average_order_value)) if summary.size else 0.0,
    )
    value_if_retained = orders_per_month * order_value * _monthly_discount_factors(settings).sum()
    return orders_per_month * settings.horizon_months, order_value, value_if_retained
