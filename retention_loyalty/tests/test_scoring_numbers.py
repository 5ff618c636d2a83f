"""The scores of a small hand-built customer base, checked as numbers.

Each customer's P(alive), expected orders, order value, lifetime value, value
at stake, usual gap, overdue ratio, risk, tier and next order date (or since
when they are overdue) are computed here from
the orders the test creates, with the published closed forms written out by
hand (BG/NBD: Fader, Hardie & Lee 2005 and 2008; Gamma-Gamma: Fader, Hardie &
Lee 2005, "RFM and CLV", and Hardie's note 025) and the documented rules of
readme/USAGE.md. Nothing of the engine is called: its result is only read
back from ``retention.customer.stat`` after the recomputation a user asks for
in the settings and the scheduled action performs. The fitted parameters are
taken from the stored ``retention.model.fit``; the test checks that they
maximise the likelihood of the base it built.

Units, as documented: a purchase is a day with a positive net amount (orders
of one day are one purchase); the models count time in weeks from the first
purchase; the lifetime value is summed month by month (a month of 365.25 / 12
days) and discounted monthly.
"""

import itertools
import math
import statistics
from datetime import datetime, time, timedelta

from scipy import special

from odoo import Command
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import SQL

from .common import TODAY, RetentionCase

NOW = datetime.combine(TODAY, time(12))
DAYS_PER_MONTH = 365.25 / 12
# The defaults of the settings (Retention > Settings > Risk levels).
P_ALIVE_BELOW = {"medium": 0.6, "high": 0.3, "lost": 0.1}
OVERDUE_FROM = {"medium": 1.0, "high": 2.5, "lost": 4.0}
RISK_ORDER = ("low", "medium", "high", "lost")
RISK_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "lost": "Lost"}
# Default tiers: cumulative share of the value in %.
TIERS = (("A", 80.0), ("B", 95.0), ("C", 100.0))
# The engine and these closed forms agree to about 1e-14.
REL = 1e-9

SWING = (1.0, 0.6, 1.5, 0.8, 1.3, 0.7)


def rhythm(first_ago, last_ago, gap, amount):
    """Orders every ``gap`` days from ``first_ago`` to ``last_ago`` days ago,
    amounts swinging around ``amount``."""
    return [
        (ago, round(amount * SWING[k % len(SWING)], 2))
        for k, ago in enumerate(range(first_ago, last_ago - 1, -gap))
    ]


# Confirmed orders (days before TODAY, untaxed amount) of each customer.
MODEL_BASE = {
    "Weekly": rhythm(360, 10, 14, 60.0),
    "Monthly": rhythm(700, 20, 30, 70.0),
    "Lapsed frequent": rhythm(700, 300, 20, 65.0),
    "Lapsed slow": [(600, 120.0), (450, 90.0), (380, 150.0)],
    # Two orders on one day (one through a contact): one purchase of 100.
    "Same day": [(200, 60.0), (200, 40.0), (120, 75.0), (45, 90.0)],
    "With noise": [(500, 30.0), (250, 45.0), (100, 35.0)],
    "Once recent": [(20, 65.0)],
    "Once old": [(400, 210.0)],
    "Once mid": [(150, 45.0)],
    "Once older": [(650, 80.0)],
    "Once a while ago": [(500, 30.0)],
    "Once medium": [(100, 50.0)],
    "Quarterly": rhythm(640, 10, 90, 75.0),
    "Big": [(300, 900.0), (150, 1100.0), (60, 700.0)],
    "Declining": [(700, 70.0), (680, 90.0), (650, 65.0), (600, 40.0), (500, 50.0), (350, 30.0)],
    "New repeat": [(50, 35.0), (25, 20.0)],
    "Bimonthly": rhythm(420, 60, 60, 80.0),
    "Gone two": [(690, 60.0), (640, 250.0)],
    "Gone three": [(620, 40.0), (600, 70.0), (560, 50.0)],
    "Gone two b": [(540, 200.0), (520, 15.0)],
    "Overdue": rhythm(400, 100, 60, 90.0),
}
# Orders that are no purchase: cancelled, dated in the future, free.
MODEL_NOISE = {"With noise": [(15, 500.0, "cancel"), (-5, 999.0, "sale"), (30, 0.0, "sale")]}

RHYTHM_BASE = {
    "On rhythm": [(130, 80.0), (100, 60.0), (70, 90.0), (40, 70.0), (10, 100.0)],
    "Due exactly": [(140, 200.0), (100, 150.0), (60, 250.0)],
    # Gaps of 35, the typical gap: due today, at the medium overdue ratio of 1.
    "Due today": [(105, 90.0), (70, 110.0), (35, 100.0)],
    "Slipping": [(270, 40.0), (220, 60.0), (170, 50.0), (120, 30.0)],
    "Gone": [(170, 20.0), (150, 25.0), (130, 30.0), (110, 15.0), (90, 35.0)],
    "Once recent": [(15, 300.0)],
    "Once old": [(80, 150.0)],
}
# The model company keeps the default horizon and discount rate.
MODEL_HORIZON_MONTHS = 12
MODEL_DISCOUNT_RATE = 0.01
RHYTHM_HORIZON_MONTHS = 6
RHYTHM_DISCOUNT_RATE = 0.02


# ---------------------------------------------------------------- purchase histories


def history(orders, noise=()):
    """The figures of one customer, from their orders (day, amount, state)
    as USAGE.md defines them."""
    by_day = {}
    orders_of_day = {}
    for ago, amount, state in [(ago, amount, "sale") for ago, amount in orders] + list(noise):
        day = TODAY - timedelta(days=ago)
        if state != "sale" or day > TODAY:
            continue
        by_day[day] = by_day.get(day, 0.0) + amount
        orders_of_day[day] = orders_of_day.get(day, 0) + 1
    purchases = sorted(day for day, amount in by_day.items() if amount > 0)
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(purchases)]
    purchase_revenue = sum(by_day[day] for day in purchases)
    order_count = sum(orders_of_day[day] for day in purchases)
    return {
        "second_gap": gaps[0] if gaps else None,
        "x": len(purchases) - 1,
        "t_x": (purchases[-1] - purchases[0]).days / 7,
        "T": (TODAY - purchases[0]).days / 7,
        "days_since": (TODAY - purchases[-1]).days,
        "median_gap": statistics.median(gaps) if gaps else None,
        "repeat_mean": statistics.mean(by_day[day] for day in purchases[1:]) if gaps else None,
        "average_order_value": purchase_revenue / order_count,
        "revenue_12m": sum(
            amount for day, amount in by_day.items() if day > TODAY - timedelta(days=365)
        ),
    }


def typical_gap(histories):
    """Median of the repeat customers' median gaps."""
    return statistics.median(h["median_gap"] for h in histories.values() if h["x"] > 0)


def typical_second_gap(histories):
    """Median days from the first to the second purchase of the repeat customers."""
    return statistics.median(h["second_gap"] for h in histories.values() if h["x"] > 0)


def usual_gap(h, histories):
    """The own median gap with the typical gap as one more gap, to hundredths
    of a day; the typical second-order gap for one-order customers."""
    if h["x"] == 0:
        return typical_second_gap(histories)
    return round((h["x"] * h["median_gap"] + typical_gap(histories)) / (h["x"] + 1), 2)


def rhythm_p_alive(overdue):
    """1 until the usual gap has passed, then exp(-(overdue - 1))."""
    return math.exp(-max(overdue - 1, 0))


def next_order_or_overdue_since(h, gap, p_alive):
    """Due one usual gap after the last order: the next order date while
    that day has not passed (none for customers more likely gone than not),
    else the day since which the customer is overdue."""
    due = TODAY + timedelta(days=math.ceil(gap - h["days_since"]))
    if h["days_since"] > gap:
        return None, due
    return (due if p_alive >= 0.5 else None), None


def risk_level(p_alive, overdue):
    """The worse of the P(alive) and the overdue signal; at most medium
    within the usual gap, at least medium past it."""
    by_p_alive = "low"
    for level in ("medium", "high", "lost"):
        if p_alive < P_ALIVE_BELOW[level]:
            by_p_alive = level
    by_overdue = "low"
    for level in ("medium", "high", "lost"):
        if overdue >= OVERDUE_FROM[level]:
            by_overdue = level
    worse = max(by_p_alive, by_overdue, key=RISK_ORDER.index)
    if overdue > 1:
        return max(worse, "medium", key=RISK_ORDER.index)
    return min(worse, "medium", key=RISK_ORDER.index)


def value_tiers(values):
    """Ranked from the most valuable down, a customer belongs to the first
    tier whose cumulative share was not reached by those before them; equal
    values share a tier; no value, the last tier."""
    total = sum(value for value in values.values() if value > 0)
    tiers = {}
    before = 0.0
    previous = None
    for name, value in sorted(values.items(), key=lambda item: -item[1]):
        if value <= 0:
            tiers[name] = TIERS[-1][0]
            continue
        if previous is not None and value == previous[1]:
            tiers[name] = tiers[previous[0]]
        else:
            share_before = 100.0 * before / total
            tiers[name] = next(tier for tier, cutoff in TIERS if share_before < cutoff)
        before += value
        previous = (name, value)
    return tiers


# ---------------------------------------------------------------- the models, by hand


def bgnbd_p_alive(fit, h):
    """1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))."""
    if h["x"] == 0:
        return 1.0
    r, alpha, a, b = fit.bgnbd_r, fit.bgnbd_alpha, fit.bgnbd_a, fit.bgnbd_b
    odds = a / (b + h["x"] - 1) * ((alpha + h["T"]) / (alpha + h["t_x"])) ** (r + h["x"])
    return 1.0 / (1.0 + odds)


def bgnbd_purchases_if_alive(fit, h, weeks):
    """Expected purchases in the next ``weeks`` of a customer still active:
    equation (10) of FHL 2005 without its P(alive) factor,
    (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]."""
    r, alpha, a, b = fit.bgnbd_r, fit.bgnbd_alpha, fit.bgnbd_a, fit.bgnbd_b
    x, age = h["x"], h["T"]
    if weeks == 0:
        return 0.0
    hypergeometric = special.hyp2f1(r + x, b + x, a + b + x - 1, weeks / (alpha + age + weeks))
    return (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + age) / (alpha + age + weeks)) ** (r + x) * hypergeometric)
    )


def gamma_gamma_value(fit, h):
    """p (v + x mean) / (p x + q - 1); the population mean p v / (q - 1) for x = 0."""
    p, q, v = fit.gamma_p, fit.gamma_q, fit.gamma_v
    if h["x"] == 0:
        return p * v / (q - 1)
    return p * (v + h["x"] * h["repeat_mean"]) / (p * h["x"] + q - 1)


def bgnbd_log_likelihood(params, histories):
    """FHL 2005 equation (6), summed over the customers."""
    r, alpha, a, b = params
    total = 0.0
    for h in histories.values():
        x, t_x, age = h["x"], h["t_x"], h["T"]
        common = special.gammaln(r + x) - special.gammaln(r) + r * math.log(alpha)
        stays = (
            special.betaln(a, b + x)
            - special.betaln(a, b)
            + common
            - (r + x) * math.log(alpha + age)
        )
        likelihood = math.exp(stays)
        if x > 0:
            left = (
                special.betaln(a + 1, b + x - 1)
                - special.betaln(a, b)
                + common
                - (r + x) * math.log(alpha + t_x)
            )
            likelihood += math.exp(left)
        total += math.log(likelihood)
    return total


def gamma_gamma_log_likelihood(params, histories):
    """Hardie's note 025, equation (1a), over the repeat customers."""
    p, q, v = params
    total = 0.0
    for h in histories.values():
        x, mean = h["x"], h["repeat_mean"]
        if not x:
            continue
        total += (
            special.gammaln(p * x + q)
            - special.gammaln(p * x)
            - special.gammaln(q)
            + q * math.log(v)
            + (p * x - 1) * math.log(mean)
            + p * x * math.log(x)
            - (p * x + q) * math.log(v + x * mean)
        )
    return total


def expected_model_scores(fit, histories, horizon_months, monthly_rate):
    scores = {}
    for name, h in histories.items():
        gap = usual_gap(h, histories)
        overdue = h["days_since"] / gap
        p_alive = min(bgnbd_p_alive(fit, h), rhythm_p_alive(overdue))
        value = gamma_gamma_value(fit, h)
        if_alive = [
            bgnbd_purchases_if_alive(fit, h, month * DAYS_PER_MONTH / 7)
            for month in range(horizon_months + 1)
        ]
        value_if_alive = value * sum(
            (if_alive[month] - if_alive[month - 1]) / (1 + monthly_rate) ** month
            for month in range(1, horizon_months + 1)
        )
        next_order, overdue_since = next_order_or_overdue_since(h, gap, p_alive)
        scores[name] = {
            "p_alive": p_alive,
            "expected_orders": p_alive * if_alive[-1],
            "expected_order_value": value,
            "value_if_retained": value_if_alive,
            "clv": p_alive * value_if_alive,
            "value_at_stake": (1 - p_alive) * value_if_alive,
            "usual_gap_days": gap,
            "overdue_ratio": overdue,
            "risk_level": risk_level(p_alive, overdue),
            "next_order_date": next_order,
            "overdue_since": overdue_since,
        }
    return scores


def expected_rhythm_scores(histories, horizon_months, monthly_rate):
    """The rhythm heuristic: P(alive) 1 until the usual gap has passed, then
    exp(-(overdue - 1)); while alive, one purchase per usual gap at the
    customer's average order value."""
    annuity = sum(1 / (1 + monthly_rate) ** month for month in range(1, horizon_months + 1))
    scores = {}
    for name, h in histories.items():
        gap = usual_gap(h, histories)
        overdue = h["days_since"] / gap
        p_alive = rhythm_p_alive(overdue)
        purchases_per_month = DAYS_PER_MONTH / gap
        value_if_alive = purchases_per_month * h["average_order_value"] * annuity
        next_order, overdue_since = next_order_or_overdue_since(h, gap, p_alive)
        scores[name] = {
            "p_alive": p_alive,
            "expected_orders": p_alive * purchases_per_month * horizon_months,
            "expected_order_value": h["average_order_value"],
            "value_if_retained": value_if_alive,
            "clv": p_alive * value_if_alive,
            "value_at_stake": (1 - p_alive) * value_if_alive,
            "usual_gap_days": gap,
            "overdue_ratio": overdue,
            "risk_level": risk_level(p_alive, overdue),
            "next_order_date": next_order,
            "overdue_since": overdue_since,
        }
    return scores


# ---------------------------------------------------------------- the tests


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestScoringNumbers(RetentionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model_company = cls._company("Scoring by the Models")
        cls.model_company.retention_min_repeat_customers = 8
        cls.model_customers = cls._base(cls.model_company, MODEL_BASE, MODEL_NOISE)
        # "Same day" is a company: its contact placed one of the two orders of day 200.
        same_day = cls.model_customers["Same day"]
        same_day.is_company = True
        contact = cls.env["res.partner"].create(
            {"name": "Buyer at Same day", "parent_id": same_day.id}
        )
        contact_order = cls.env["sale.order"].search(
            [("partner_id", "=", same_day.id), ("amount_untaxed", "=", 40.0)]
        )
        contact_order.ensure_one()
        contact_order.partner_id = contact
        cls.rhythm_company = cls._company("Scoring by Rhythm")
        cls.rhythm_company.write(
            {
                "retention_clv_horizon_months": RHYTHM_HORIZON_MONTHS,
                "retention_monthly_discount_rate": RHYTHM_DISCOUNT_RATE,
                "retention_tier_basis": "clv",
            }
        )
        cls.rhythm_customers = cls._base(cls.rhythm_company, RHYTHM_BASE)
        # Only the company a test recomputes is asked for (writing the settings
        # above asked for a full run of the rhythm company).
        companies = cls.model_company | cls.rhythm_company
        cls.env["res.company"].search([]).retention_full_run_requested = False
        cls.admin = new_test_user(
            cls.env,
            login="rl_scoring_admin",
            groups="base.group_system,retention_loyalty.group_retention_manager",
            company_id=cls.model_company.id,
            company_ids=[Command.set(companies.ids)],
        )

    @classmethod
    def _company(cls, name):
        return cls.env["res.company"].create({"name": name})

    @classmethod
    def _base(cls, company, base, noise=None):
        partners = cls.env["res.partner"].create([{"name": name} for name in base])
        customers = dict(zip(base, partners, strict=True))
        rows = [
            (name, ago, amount, "sale") for name, orders in base.items() for ago, amount in orders
        ]
        rows += [(name, *order) for name, orders in (noise or {}).items() for order in orders]
        cls.env["sale.order"].create(
            [
                {
                    "partner_id": customers[name].id,
                    "company_id": company.id,
                    "date_order": datetime.combine(TODAY - timedelta(days=ago), time(10)),
                    "state": state,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "product_uom_qty": 1,
                                "price_unit": amount,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
                for name, ago, amount, state in rows
            ]
        )
        return customers

    def _recompute_as_the_user_does(self, company):
        """*Recompute now* in the settings, then the scheduled action runs."""
        settings = (
            self.env["res.config.settings"].with_user(self.admin).with_company(company).create({})
        )
        settings.action_retention_recompute()
        self.env.ref("retention_loyalty.ir_cron_retention_recompute").method_direct_trigger()
        fit = self.env["retention.model.fit"].search([("company_id", "=", company.id)])
        self.assertEqual(len(fit), 1, "one fit, for the company asked for")
        return fit

    def _stored(self, company, customers):
        """The figures as stored, at full precision (the form shows them rounded)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT partner_id, p_alive, expected_orders, expected_order_value, clv,
                       value_at_stake, value_if_retained, usual_gap_days, overdue_ratio,
                       risk_level, expected_next_order_date, overdue_since,
                       method, value_tier_id, segment
                  FROM retention_customer_stat
                 WHERE company_id = %s
                """,
                company.id,
            )
        )
        rows = self.env.cr.dictfetchall()
        name_of = {partner.id: name for name, partner in customers.items()}
        tiers = {tier.id: tier.name for tier in company.retention_value_tier_ids}
        stored = {}
        for row in rows:
            numbers = {
                key: float(row[key])
                for key in (
                    "p_alive",
                    "expected_orders",
                    "expected_order_value",
                    "clv",
                    "value_at_stake",
                    "value_if_retained",
                    "usual_gap_days",
                    "overdue_ratio",
                )
            }
            stored[name_of[row["partner_id"]]] = {
                **numbers,
                "risk_level": row["risk_level"],
                "next_order_date": row["expected_next_order_date"],
                "overdue_since": row["overdue_since"],
                "method": row["method"],
                "tier": tiers[row["value_tier_id"]],
                "segment": row["segment"],
            }
        return stored

    def _assert_scores(self, stored, expected, tiers, method):
        self.assertEqual(set(stored), set(expected), "one row per customer with a purchase")
        for name, figures in expected.items():
            row = stored[name]
            for key in (
                "p_alive",
                "expected_orders",
                "expected_order_value",
                "clv",
                "value_at_stake",
                "value_if_retained",
                "usual_gap_days",
                "overdue_ratio",
            ):
                self.assertTrue(
                    math.isclose(row[key], figures[key], rel_tol=REL, abs_tol=1e-12),
                    f"{name}: {key} is {row[key]!r}, expected {figures[key]!r}",
                )
            self.assertEqual(row["risk_level"], figures["risk_level"], f"{name}: risk")
            self.assertEqual(row["next_order_date"], figures["next_order_date"], f"{name}: next")
            self.assertEqual(row["overdue_since"], figures["overdue_since"], f"{name}: overdue")
            self.assertEqual(row["tier"], tiers[name], f"{name}: tier")
            self.assertEqual(
                row["segment"], f"{tiers[name]} / {RISK_LABELS[figures['risk_level']]}", name
            )
            self.assertEqual(row["method"], method, name)

    def test_model_scores_follow_the_closed_forms(self):
        fit = self._recompute_as_the_user_does(self.model_company)
        histories = {
            name: history(orders, MODEL_NOISE.get(name, ())) for name, orders in MODEL_BASE.items()
        }
        self.assertEqual(fit.method, "bgnbd", fit.note)
        self.assertEqual(fit.customer_count, len(MODEL_BASE))
        self.assertEqual(fit.repeat_customer_count, sum(h["x"] > 0 for h in histories.values()))
        self.assertEqual(fit.typical_gap_days, typical_gap(histories))
        self.assertEqual(fit.typical_second_order_gap_days, typical_second_gap(histories))
        # The stored parameters maximise the likelihood of this base.
        bgnbd = [fit.bgnbd_r, fit.bgnbd_alpha, fit.bgnbd_a, fit.bgnbd_b]
        gamma = [fit.gamma_p, fit.gamma_q, fit.gamma_v]
        for log_likelihood, params in (
            (bgnbd_log_likelihood, bgnbd),
            (gamma_gamma_log_likelihood, gamma),
        ):
            best = log_likelihood(params, histories)
            for index in range(len(params)):
                for factor in (0.99, 1.01):
                    moved = [v * factor if i == index else v for i, v in enumerate(params)]
                    self.assertLess(log_likelihood(moved, histories), best, (params, index))
        self.assertAlmostEqual(
            fit.bgnbd_log_likelihood, bgnbd_log_likelihood(bgnbd, histories), delta=0.0005
        )

        expected = expected_model_scores(fit, histories, MODEL_HORIZON_MONTHS, MODEL_DISCOUNT_RATE)
        revenue = {name: h["revenue_12m"] for name, h in histories.items()}
        tiers = value_tiers(revenue)
        self._assert_scores(
            self._stored(self.model_company, self.model_customers), expected, tiers, "bgnbd"
        )
        # The base covers every risk level and tier, customers with and without a
        # next order and customers overdue.
        self.assertEqual({s["risk_level"] for s in expected.values()}, set(RISK_ORDER))
        self.assertEqual(set(tiers.values()), {"A", "B", "C"})
        next_dates = [s["next_order_date"] for s in expected.values()]
        self.assertIn(None, next_dates)
        self.assertGreater(len(set(next_dates)), 5)
        overdue = [s["overdue_since"] for s in expected.values() if s["overdue_since"]]
        self.assertGreater(len(set(overdue)), 5)

        total = sum(value for value in revenue.values() if value > 0)
        for name, partner in self.model_customers.items():
            stat = self.Stat.search(
                [("partner_id", "=", partner.id), ("company_id", "=", self.model_company.id)]
            )
            self.assertAlmostEqual(
                stat.revenue_share_12m, 100 * revenue[name] / total, delta=0.0005 + 1e-9
            )

    def test_rhythm_fallback_follows_its_closed_form(self):
        fit = self._recompute_as_the_user_does(self.rhythm_company)
        histories = {name: history(orders) for name, orders in RHYTHM_BASE.items()}
        repeat = sum(h["x"] > 0 for h in histories.values())
        self.assertEqual(fit.method, "heuristic")
        self.assertIn(f"{repeat} customers with a repeat purchase, fewer than the 30", fit.note)
        self.assertEqual(fit.typical_gap_days, typical_gap(histories))
        self.assertEqual(fit.typical_second_order_gap_days, typical_second_gap(histories))
        expected = expected_rhythm_scores(histories, RHYTHM_HORIZON_MONTHS, RHYTHM_DISCOUNT_RATE)
        # Tiers by lifetime value, as the company is set.
        tiers = value_tiers({name: figures["clv"] for name, figures in expected.items()})
        stored = self._stored(self.rhythm_company, self.rhythm_customers)
        self._assert_scores(stored, expected, tiers, "heuristic")
        self.assertEqual({s["risk_level"] for s in expected.values()}, set(RISK_ORDER))
        self.assertEqual(set(tiers.values()), {"A", "B", "C"})
        # Exactly at the medium overdue ratio: "at or above" the threshold.
        self.assertEqual(expected["Due today"]["overdue_ratio"], OVERDUE_FROM["medium"])
        self.assertEqual(stored["Due today"]["risk_level"], "medium")
        self.assertEqual(stored["Due today"]["next_order_date"], TODAY)
