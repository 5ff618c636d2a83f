"""Salesperson retention scorecards and the retention bonus, on plain numbers.

For a period and the previous period of the same length:

- **Retained revenue**: the salesperson's order revenue of the period from
  customers who bought (net amount above zero) in the previous period.
- **Expansion revenue**: a retained customer's growth, max(0, revenue of the
  period - revenue of the previous period), shared between the salespeople of
  the period's orders in proportion to their revenue from that customer.
- **Reactivated / churned customers**: the customer-month movements
  (``customer_movement``) of the period's months, counted once per customer
  and salesperson; a churned customer is *high value* when the revenue lost
  reaches the plan's threshold.
- **Bonus**: expansion revenue x percent + amount per reactivated customer -
  penalty per high-value churned customer, never below zero.
"""

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BonusPlan:
    expansion_percent: float = 0.0
    per_reactivated: float = 0.0
    churn_penalty: float = 0.0
    high_value_threshold: float = 0.0

    def validate(self):
        if (
            min(
                self.expansion_percent,
                self.per_reactivated,
                self.churn_penalty,
                self.high_value_threshold,
            )
            < 0
        ):
            raise ValueError(
                "Bonus percentages, amounts, penalties and thresholds can't be negative."
            )
        if self.expansion_percent > 100:
            raise ValueError("The bonus on expansion revenue is at most 100 %.")


@dataclass
class ScorecardLine:
    partner_id: int
    revenue: float = 0.0
    revenue_previous: float = 0.0
    retained_revenue: float = 0.0
    expansion_revenue: float = 0.0
    reactivated: bool = False
    churned: bool = False
    high_value_churn: bool = False
    revenue_lost: float = 0.0


@dataclass
class Scorecard:
    user_id: int
    lines: dict = field(default_factory=dict)
    revenue: float = 0.0
    retained_revenue: float = 0.0
    expansion_revenue: float = 0.0
    reactivated_count: int = 0
    churned_count: int = 0
    high_value_churned_count: int = 0
    revenue_lost: float = 0.0
    bonus_expansion: float = 0.0
    bonus_reactivation: float = 0.0
    churn_penalty: float = 0.0
    bonus: float = 0.0

    def line(self, partner_id):
        if partner_id not in self.lines:
            self.lines[partner_id] = ScorecardLine(partner_id)
        return self.lines[partner_id]


def scorecards(revenue, previous_revenue, movements, plan):
    """{salesperson id: Scorecard}.

    ``revenue``: {(salesperson id, customer id): amount} of the period's orders;
    ``previous_revenue``: {customer id: amount} of the previous period, all
    salespeople; ``movements``: (salesperson id, customer id, reactivated,
    churned, revenue lost) of the period's customer-months."""
    cards = {}

    def card(user_id):
        if user_id not in cards:
            cards[user_id] = Scorecard(user_id)
        return cards[user_id]

    positive_total = defaultdict(float)
    total = defaultdict(float)
    for (_user_id, partner_id), amount in revenue.items():
        total[partner_id] += amount
        positive_total[partner_id] += max(amount, 0.0)
    for (user_id, partner_id), amount in revenue.items():
        line = card(user_id).line(partner_id)
        line.revenue += amount
        previous = previous_revenue.get(partner_id, 0.0)
        line.revenue_previous = previous
        if previous <= 0:
            continue
        line.retained_revenue += amount
        growth = max(total[partner_id] - previous, 0.0)
        if growth and amount > 0:
            line.expansion_revenue += growth * amount / positive_total[partner_id]
    for user_id, partner_id, reactivated, churned, revenue_lost in movements:
        if not (reactivated or churned):
            continue
        line = card(user_id).line(partner_id)
        line.revenue_previous = previous_revenue.get(partner_id, 0.0)
        line.reactivated |= bool(reactivated)
        if churned:
            line.churned = True
            line.revenue_lost = max(line.revenue_lost, revenue_lost)
            line.high_value_churn = line.revenue_lost >= plan.high_value_threshold
    for scorecard in cards.values():
        _total(scorecard, plan)
    return cards


def _total(scorecard, plan):
    lines = scorecard.lines.values()
    scorecard.revenue = sum(line.revenue for line in lines)
    scorecard.retained_revenue = sum(line.retained_revenue for line in lines)
    scorecard.expansion_revenue = sum(line.expansion_revenue for line in lines)
    scorecard.reactivated_count = sum(line.reactivated for line in lines)
    scorecard.churned_count = sum(line.churned for line in lines)
    scorecard.high_value_churned_count = sum(line.high_value_churn for line in lines)
    scorecard.revenue_lost = sum(line.revenue_lost for line in lines)
    scorecard.bonus_expansion = scorecard.expansion_revenue * plan.expansion_percent / 100.0
    scorecard.bonus_reactivation = scorecard.reactivated_count * plan.per_reactivated
    scorecard.churn_penalty = scorecard.high_value_churned_count * plan.churn_penalty
    scorecard.bonus = max(
        scorecard.bonus_expansion + scorecard.bonus_reactivation - scorecard.churn_penalty, 0.0
    )
