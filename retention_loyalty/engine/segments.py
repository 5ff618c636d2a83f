"""Value tiers and risk levels of customers, from plain arrays.

- A **value tier** ranks customers by a value measure (trailing revenue or
  predicted lifetime value) with the Pareto/ABC rule: sorted from the most
  valuable down, a customer belongs to the first tier whose cumulative share
  of the total value was not yet reached before them. With cut-offs 80 % and
  95 %, "A" customers bring the first 80 % of the value.
- A customer's **usual gap** is their median gap between purchase days, with
  the company's typical gap counted as one more observation: a customer with
  two orders a day apart has no one-day rhythm. One-order customers are
  measured against the company's typical gap between a first and a second
  purchase.
- A **risk level** (low, medium, high, lost) combines the probability that the
  customer is still active (P(alive)) with how overdue they are: days since
  the last order divided by their usual gap. Whichever signal is worse
  decides, except that a customer still within their usual gap is at most
  medium (they are not late) and a customer past it is at least medium.
"""

from dataclasses import dataclass

import numpy as np

RISK_LEVELS = ("low", "medium", "high", "lost")


@dataclass(frozen=True)
class RiskThresholds:
    """P(alive) below, or overdue ratio at or above, a level's threshold puts
    the customer at that level or worse. Past their usual gap (overdue ratio
    above 1) a customer is medium at least, so a medium overdue ratio above 1
    changes nothing."""

    medium_p_alive: float = 0.6
    high_p_alive: float = 0.3
    lost_p_alive: float = 0.1
    medium_overdue: float = 1.0
    high_overdue: float = 2.5
    lost_overdue: float = 4.0

    def validate(self):
        """Raise ValueError with a readable message when thresholds overlap."""
        p_values = (self.lost_p_alive, self.high_p_alive, self.medium_p_alive)
        if not all(0.0 <= value <= 1.0 for value in p_values):
            raise ValueError("P(alive) thresholds must lie between 0 and 1.")
        if not self.lost_p_alive < self.high_p_alive < self.medium_p_alive:
            raise ValueError("P(alive) thresholds must decrease from medium to high to lost risk.")
        ratios = (self.medium_overdue, self.high_overdue, self.lost_overdue)
        if not all(value > 0 for value in ratios):
            raise ValueError("Overdue ratios must be positive.")
        if not self.medium_overdue < self.high_overdue < self.lost_overdue:
            raise ValueError("Overdue ratios must increase from medium to high to lost risk.")
        return self


def _check_gap(days):
    if not days or days <= 0 or not np.isfinite(days):
        raise ValueError("The typical gap between orders must be a positive number of days.")
    return float(days)


def usual_gap_days(gap_count, median_gap_days, typical_gap_days, typical_second_order_gap_days):
    """Each customer's usual gap between purchase days.

    With ``n`` gaps of median ``m``: (n m + typical) / (n + 1), the company's
    typical gap weighing as one more gap, so a rhythm seen once or twice is
    not taken at its word. Without a gap (one purchase day, or ``m`` NaN or
    <= 0): the typical gap between a first and a second purchase. Rounded to
    hundredths of a day."""
    typical = _check_gap(typical_gap_days)
    second = _check_gap(typical_second_order_gap_days)
    count = np.asarray(gap_count, dtype=float)
    median = np.asarray(median_gap_days, dtype=float)
    own = (count > 0) & np.isfinite(median) & (median > 0)
    with np.errstate(invalid="ignore"):
        blended = (count * median + typical) / (count + 1.0)
    # Hundredths of a day: a whole-day rhythm stays whole, whatever the float error.
    return np.round(np.where(own, blended, second), 2)


def overdue_ratio(days_since_last, usual_gaps):
    """Days since the last order over the customer's usual gap."""
    gaps = np.asarray(usual_gaps, dtype=float)
    if np.any(~np.isfinite(gaps) | (gaps <= 0)):
        raise ValueError("The usual gap between orders must be a positive number of days.")
    return np.maximum(np.asarray(days_since_last, dtype=float), 0.0) / gaps


def risk_levels(p_alive, overdue, thresholds=None):
    """Index into RISK_LEVELS (0 = low ... 3 = lost) for each customer."""
    thresholds = (thresholds or RiskThresholds()).validate()
    p_alive = np.asarray(p_alive, dtype=float)
    overdue = np.asarray(overdue, dtype=float)
    if p_alive.shape != overdue.shape:
        raise ValueError("P(alive) and overdue ratios must have one value per customer.")
    by_p_alive = np.select(
        [
            p_alive < thresholds.lost_p_alive,
            p_alive < thresholds.high_p_alive,
            p_alive < thresholds.medium_p_alive,
        ],
        [3, 2, 1],
        default=0,
    )
    by_overdue = np.select(
        [
            overdue >= thresholds.lost_overdue,
            overdue >= thresholds.high_overdue,
            overdue >= thresholds.medium_overdue,
        ],
        [3, 2, 1],
        default=0,
    )
    level = np.maximum(by_p_alive, by_overdue)
    # Not late yet: at most medium whatever the model says; late: at least medium.
    return np.where(overdue > 1.0, np.maximum(level, 1), np.minimum(level, 1))


def raised_by_service_signals(risk_index, signalled):
    """Risk one level up for customers with a recent service failure (late
    delivery, return, overdue invoice, lost quotation, unhappy answer): at
    least medium, at most high; lost stays lost."""
    risk_index = np.asarray(risk_index)
    signalled = np.asarray(signalled, dtype=bool)
    if risk_index.shape != signalled.shape:
        raise ValueError("One service flag per customer.")
    raised = np.clip(risk_index + 1, 1, 2)
    return np.where(signalled & (risk_index < 3), np.maximum(risk_index, raised), risk_index)


def validate_cutoffs(cumulative_cutoffs):
    """Cut-offs are cumulative shares in (0, 1], strictly increasing, the
    last one 1 (every customer gets a tier)."""
    cutoffs = np.asarray(cumulative_cutoffs, dtype=float)
    if cutoffs.ndim != 1 or cutoffs.size == 0:
        raise ValueError("At least one value tier is needed.")
    if np.any(cutoffs <= 0) or np.any(cutoffs > 1):
        raise ValueError("Tier cut-offs are shares of the total value between 0 % and 100 %.")
    if np.any(np.diff(cutoffs) <= 0):
        raise ValueError("Tier cut-offs must increase from the best tier to the last one.")
    if cutoffs[-1] != 1.0:
        raise ValueError("The last tier must reach 100 % so that every customer has a tier.")
    return cutoffs


def value_tiers(values, cumulative_cutoffs):
    """Tier index (0 = best) of each customer by cumulative share of ``values``.

    Equal values share a tier; customers with no value (zero or negative) are
    in the last tier. Deterministic whatever the input order."""
    cutoffs = validate_cutoffs(cumulative_cutoffs)
    values = np.asarray(values, dtype=float)
    tiers = np.full(values.shape, cutoffs.size - 1, dtype=int)
    positive = np.where(values > 0, values, 0.0)
    total = positive.sum()
    if values.size == 0 or total <= 0:
        return tiers
    order = np.argsort(-positive, kind="stable")
    sorted_values = positive[order]
    share_before = (np.cumsum(sorted_values) - sorted_values) / total
    # Ties take the share before the first of them, so they land together.
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    share_before = share_before[starts][group]
    sorted_tiers = np.searchsorted(cutoffs, share_before, side="right")
    sorted_tiers = np.minimum(sorted_tiers, cutoffs.size - 1)
    sorted_tiers[sorted_values <= 0] = cutoffs.size - 1
    tiers[order] = sorted_tiers
    return tiers


def tier_thresholds(values, tiers, n_tiers):
    """The lowest value of each tier but the last: where the tier started.
    A tier nobody reached starts where the next better one started."""
    values = np.asarray(values, dtype=float)
    thresholds = []
    previous = float("inf")
    for tier in range(n_tiers - 1):
        members = values[tiers == tier]
        previous = float(members.min()) if members.size else previous
        thresholds.append(previous)
    return thresholds


def tiers_by_threshold(values, thresholds):
    """Tier index of each value against the starting values of the tiers
    (best first): the first tier whose start the value reaches; else the last."""
    values = np.asarray(values, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    if np.any(np.diff(thresholds) > 0):
        raise ValueError("Tier thresholds must not increase from the best tier down.")
    reached = values[:, None] >= thresholds[None, :]
    reached &= values[:, None] > 0
    return np.where(reached.any(axis=1), reached.argmax(axis=1), thresholds.size)
