"""The arithmetic of a loyalty points ledger, on plain values.

A card's balance is the sum of its ledger entries. Positive entries are
*lots*: they keep the amount not yet spent (``remaining``) and an expiry date.
Spending, expiring and reversing take points from lots, the oldest expiry
first (FIFO). When a policy lets the balance go below zero, the shortfall is a
*debt* that the next points earned repay before they form a spendable lot, so
that at all times ``sum(remaining) == max(balance, 0)``.

Points are rounded to ``POINT_DIGITS`` decimals, half away from zero, so that
sums of entries stay exact.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .dates import add_months

POINT_DIGITS = 2
_QUANTUM = Decimal(1).scaleb(-POINT_DIGITS)


def round_points(value):
    """Points rounded half away from zero to ``POINT_DIGITS`` decimals."""
    return float(Decimal(repr(float(value))).quantize(_QUANTUM, rounding=ROUND_HALF_UP))


def expiry_date(earned_on, months):
    """When points earned on ``earned_on`` expire after ``months`` months;
    ``None`` when they never expire (no positive duration)."""
    if not months or months <= 0:
        return None
    return add_months(earned_on, months)


@dataclass(frozen=True)
class Lot:
    """Spendable points of one positive ledger entry."""

    key: object
    remaining: float
    expires_on: date | None = None


def fifo_order(lots):
    """Lots in the order they are consumed: the soonest expiry first, lots
    that never expire last, ties by their key (their age)."""
    return sorted(
        lots,
        key=lambda lot: (lot.expires_on is None, lot.expires_on or date.max, lot.key),
    )


@dataclass
class Consumption:
    """What taking points from lots does: the amount taken per lot key and
    what the lots could not cover."""

    taken: dict = field(default_factory=dict)
    shortfall: float = 0.0


def consume(lots, amount):
    """Take ``amount`` points from ``lots`` oldest expiry first."""
    if amount < 0:
        raise ValueError("The amount of points to take cannot be negative.")
    result = Consumption()
    left = round_points(amount)
    for lot in fifo_order(lots):
        if left <= 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            result.taken[lot.key] = round_points(take)
            left = round_points(left - take)
    result.shortfall = max(left, 0.0)
    return result


def new_lot_remaining(points, balance_before):
    """Spendable part of ``points`` newly earned when the card balance before
    was ``balance_before``: a negative balance (a debt) is repaid first."""
    debt = max(-balance_before, 0.0)
    return round_points(max(points - debt, 0.0))


def due_lots(lots, today):
    """Lots whose points expire on or before ``today`` and are not all spent."""
    return [
        lot
        for lot in lots
        if lot.remaining > 0 and lot.expires_on is not None and lot.expires_on <= today
    ]


def reversal_target(earned_points, order_amount, refunded_amount):
    """Points an order's refunds take back in total: the earned points in
    proportion to the refunded share of the order amount, never more than
    were earned. A zero-amount order that was refunded at all loses them all."""
    if earned_points <= 0 or refunded_amount <= 0:
        return 0.0
    if order_amount <= 0:
        return round_points(earned_points)
    share = min(refunded_amount / order_amount, 1.0)
    return round_points(earned_points * share)


@dataclass(frozen=True)
class PointsBreakdown:
    """How an order's points come about: base points from the program rules,
    the bonus from the customer's multiplier, the bonus of each campaign."""

    base: float
    customer_multiplier: float
    customer_bonus: float
    campaign_bonuses: tuple = ()

    @property
    def total(self):
        return round_points(
            self.base + self.customer_bonus + sum(bonus for _name, bonus in self.campaign_bonuses)
        )


def multiply_points(base, customer_multiplier=1.0, campaigns=()):
    """Apply the customer's multiplier and bonus campaigns to ``base`` points.

    The customer's multiplier scales the base points. Each campaign adds its
    own bonus on top, ``(multiplier - 1) x base x eligible share`` where the
    eligible share is the part of the order (0 to 1) the campaign covers, so
    campaigns add up rather than compound and each can be read on its own.
    ``campaigns`` is a sequence of ``(name, multiplier, eligible_share)``."""
    if customer_multiplier < 0:
        raise ValueError("A points multiplier cannot be negative.")
    customer_bonus = round_points(base * (customer_multiplier - 1.0))
    multiplied = base * customer_multiplier
    bonuses = []
    for name, multiplier, share in campaigns:
        if multiplier < 0:
            raise ValueError("A points multiplier cannot be negative.")
        share = min(max(share, 0.0), 1.0)
        bonus = round_points(multiplied * (multiplier - 1.0) * share)
        if bonus:
            bonuses.append((name, bonus))
    return PointsBreakdown(
        base=round_points(base),
        customer_multiplier=customer_multiplier,
        customer_bonus=customer_bonus,
        campaign_bonuses=tuple(bonuses),
    )


def category_share(lines, category_paths):
    """Share of the amount of ``lines`` ((category parent path, amount) pairs)
    on products of the categories whose parent paths are ``category_paths``,
    subcategories included: 1.0 when no category is named, 0.0 for an order
    of nothing."""
    if not category_paths:
        return 1.0
    total = sum(amount for _path, amount in lines)
    if total <= 0:
        return 0.0
    eligible = sum(
        amount
        for path, amount in lines
        if path and any(path.startswith(category) for category in category_paths)
    )
    return eligible / total


def redeemable_points(balance, order_total, point_value):
    """Most points that can be spent on an order: no more than the balance
    nor than the points worth the order total."""
    if point_value <= 0:
        raise ValueError("A point must be worth a positive amount.")
    by_total = int(Decimal(repr(max(order_total, 0.0))) / Decimal(repr(point_value)) * 100) / 100
    return round_points(max(min(balance, by_total), 0.0))


def check_redemption(points, balance, order_total, point_value):
    """Raise ValueError with a readable reason when ``points`` cannot be spent."""
    if points <= 0:
        raise ValueError("The number of points to use must be positive.")
    if points > balance + 1e-9:
        raise ValueError(f"Only {balance:g} points are available.")
    if points > redeemable_points(balance, order_total, point_value) + 1e-9:
        raise ValueError("The points would be worth more than the order total.")
