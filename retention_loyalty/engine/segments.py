"""Value tiers and risk levels of customers, from plain arrays.

- A **value tier** ranks customers by a value measure (trailing revenue or
  predicted lifetime value) with the Pareto/ABC rule: sorted from the most
  valuable down, a customer belongs to the first tier whose cumulative share
  of the total value was not yet reached before them. With cut-offs 80 % and
  95 %, "A" customers bring the first 80 % of the value.
- A **risk level** (low, medium, high, lost) combines the probability that the
  customer is still active (P(alive)) with how overdue their next order is
  against their usual rhythm: days since the last order divided by their own
  median gap between orders or, for customers with one order, the typical gap
  of all customers. Whichever signal is worse decides.
"""

from dataclasses import dataclass

import numpy as np

RISK_LEVELS = ("low", "medium", "high", "lost")


@dataclass(frozen=True)
class RiskThresholds:
    """P(alive) below, or overdue ratio at or above, a level's threshold puts
    the customer at that level or worse."""

    medium_p_alive: float = 0.6
    high_p_alive: float = 0.3
    lost_p_alive: float = 0.1
    medium_overdue: float = 1.5
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


def overdue_ratio(days_since_last, own_gap_days, typical_gap_days):
    """Days since the last order over the customer's usual gap.

    ``own_gap_days`` is NaN (or <= 0) for customers without a repeat purchase;
    they are measured against ``typical_gap_days``, the population's gap."""
    if not typical_gap_days or typical_gap_days <= 0 or not np.isfinite(typical_gap_days):
        raise ValueError("The typical gap between orders must be a positive number of days.")
    days = np.asarray(days_since_last, dtype=float)
    gaps = np.asarray(own_gap_days, dtype=float)
    usable = np.isfinite(gaps) & (gaps > 0)
    gaps = np.where(usable, gaps, typical_gap_days)
    return np.maximum(days, 0.0) / gaps


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
    return np.maximum(by_p_alive, by_overdue)


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
