import logging
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, clean_context
from odoo.tools.translate import LazyTranslate

from ..engine import scorecards
from ..engine.customer_movement import month_start, period_months
from ..engine.dates import add_months
from .retention_customer_month import CONCURRENCY_ERRORS, DashboardBusyError
from .retention_customer_stat import value_labels

_logger = logging.getLogger(__name__)

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
PERIOD_SELECTION = [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")]
FIGURES = (
    "revenue",
    "retained_revenue",
    "expansion_revenue",
    "reactivated_count",
    "churned_count",
    "high_value_churned_count",
    "revenue_lost",
    "bonus_expansion",
    "bonus_reactivation",
    "churn_penalty",
    "bonus",
)


_lt = LazyTranslate(__name__)
MARGIN_LABELS = {
    "revenue": _lt("Order Margin"),
    "retained_revenue": _lt("Retained Margin"),
    "expansion_revenue": _lt("Expansion Margin"),
}


class RetentionScorecard(models.Model):
    """A salesperson's retention figures and bonus for one period."""

    _name = "retention.scorecard"
    _description = "Salesperson Retention Scorecard"
    _inherit = ["mail.thread"]
    _order = "date_start desc, user_id"

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda s: s.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        required=True,
        readonly=True,
        index=True,
        context={"active_test": False},
    )
    period_kind = fields.Selection(
        PERIOD_SELECTION,
        string="Period",
        required=True,
        readonly=True,
    )
    date_start = fields.Date(string="From", required=True, readonly=True)
    date_end = fields.Date(string="To", required=True, readonly=True)
    state = fields.Selection(
        [("draft", "To Approve"), ("approved", "Approved")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        help="Approved scorecards are kept as they are when the period is computed again.",
    )
    computed_on = fields.Datetime(readonly=True)
    revenue = fields.Monetary(
        string="Order Revenue", readonly=True, help="The salesperson's order revenue of the period."
    )
    retained_revenue = fields.Monetary(
        readonly=True,
        help="Order revenue of the period from customers who bought in the previous period.",
    )
    expansion_revenue = fields.Monetary(
        readonly=True,
        help="Growth of those customers over the previous period, shared by order revenue.",
    )
    reactivated_count = fields.Integer(string="Reactivated Customers", readonly=True)
    churned_count = fields.Integer(string="Churned Customers", readonly=True)
    high_value_churned_count = fields.Integer(string="High-Value Churned", readonly=True)
    revenue_lost = fields.Monetary(readonly=True)
    followup_open_count = fields.Integer(
        string="Open Follow-ups",
        readonly=True,
        help="Retention follow-ups assigned to the salesperson and still open when the "
        "scorecard was computed.",
    )
    followup_overdue_count = fields.Integer(string="Overdue Follow-ups", readonly=True)
    followup_done_count = fields.Integer(
        string="Done Follow-ups", readonly=True, help="Retention follow-ups done in the period."
    )
    portfolio_count = fields.Integer(
        string="Active Customers",
        readonly=True,
        help="Customers active at the end of the period whose latest order was the salesperson's.",
    )
    portfolio_risk = fields.Float(
        string="Average Churn Risk (%)",
        readonly=True,
        aggregator="avg",
        help="Average of 1 - P(alive) over those customers, from their current statistics.",
    )
    contact_plan_count = fields.Integer(
        string="Customers with a Contact Plan",
        readonly=True,
        help="The salesperson's customers whose value tier asks for a contact every N days.",
    )
    contact_plan_kept_count = fields.Integer(
        string="Contacted in Time",
        readonly=True,
        help="Of those, the customers touched within their cadence at the end of the period.",
    )
    contact_coverage = fields.Float(
        string="Contact Plan Kept (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 0),
    )
    bonus_expansion_percent = fields.Float(string="Bonus on Expansion (%)", readonly=True)
    bonus_per_reactivated = fields.Monetary(readonly=True)
    bonus_churn_penalty = fields.Monetary(string="Penalty per High-Value Churn", readonly=True)
    bonus_high_value_threshold = fields.Monetary(string="High Value From", readonly=True)
    bonus_expansion = fields.Monetary(string="Expansion Bonus", readonly=True)
    bonus_reactivation = fields.Monetary(string="Reactivation Bonus", readonly=True)
    churn_penalty = fields.Monetary(readonly=True)
    bonus = fields.Monetary(string="Retention Bonus", readonly=True, tracking=True)
    line_ids = fields.One2many("retention.scorecard.line", "scorecard_id", string="Customers")

    _sql_constraints = [
        (
            "one_per_period",
            "UNIQUE(company_id, user_id, period_kind, date_start)",
            "A salesperson has one scorecard per period.",
        )
    ]

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        # Order figures follow the company's customer value (revenue or margin).
        return value_labels(self.env, super().fields_get(allfields, attributes), MARGIN_LABELS)

    @api.depends("user_id.name", "period_kind", "date_start")
    def _compute_name(self):
        for card in self:
            if not card.date_start:
                card.name = False
                continue
            start = card.date_start
            period = {
                "month": f"{start:%Y-%m}",
                "quarter": f"{start.year} Q{(start.month - 1) // 3 + 1}",
                "year": f"{start.year}",
            }[card.period_kind]
            card.name = f"{card.user_id.name} · {period}"

    def action_approve(self):
        self.write({"state": "approved"})

    def action_reset_to_draft(self):
        self.write({"state": "draft"})

    @api.ondelete(at_uninstall=False)
    def _unlink_except_approved(self):
        if any(card.state == "approved" for card in self):
            raise UserError(self.env._("Approved scorecards can't be deleted; reset them first."))

    # ------------------------------------------------------------------ computing

    @api.model
    def _period_bounds(self, period_kind, day):
        """First and last day of the ``period_kind`` that holds ``day``."""
        months = PERIOD_MONTHS[period_kind]
        first = month_start(day)
        first = first.replace(month=(first.month - 1) // months * months + 1)
        return first, add_months(first, months) - timedelta(days=1)

    def action_month_to_date(self):
        """The list's button (on no particular record): this month's
        scorecard so far for the current user, computed now:
        a salesperson need not wait for the month's end or an administrator.
        Only their own, whatever the client sends; a draft, which only an
        administrator approves."""
        if not self.env.user.has_group("retention_loyalty.group_retention_user"):
            raise AccessError(self.env._("Only retention users have scorecards."))
        company = self.env.company  # checked against the user's companies
        today = fields.Date.context_today(self)
        user = self.env.user
        card = (
            self.sudo()
            .with_context(clean_context(self.env.context))
            ._compute_period(company, "month", today, users=user)
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Month to Date"),
            "res_model": self._name,
            "res_id": card.id,
            "views": [(False, "form")],
            "target": "current",
        }

    @api.model
    def _compute_period(self, company, period_kind, day, users=None):
        """(Re)compute every salesperson's scorecard of ``company`` for the
        period holding ``day``, or only those of ``users`` (one each, even
        without figures); approved ones are kept. Returns the scorecards."""
        if period_kind not in PERIOD_MONTHS:
            raise UserError(self.env._("Unknown scorecard period: %s", period_kind))
        company = company.sudo()
        start, end = self._period_bounds(period_kind, day)
        today = fields.Date.context_today(self.with_company(company))
        if start > today:
            raise UserError(
                self.env._("Scorecards can't be computed for a period that hasn't begun.")
            )
        months = PERIOD_MONTHS[period_kind]
        previous_start = add_months(start, -months)
        if company._retention_dashboard_stale():
            self.env["retention.customer.month"]._rebuild_company(company, as_of=today)
        plan = company._retention_bonus_plan()
        revenue, previous = self._read_revenue(company, previous_start, start, end)
        movements = self._read_movements(company, period_months(start, months))
        cards = scorecards.scorecards(revenue, previous, movements, plan)
        followups = self._read_followups(company, start, end, today)
        portfolio = self._read_portfolio(company, month_start(end))
        coverage = self._read_contact_coverage(company, min(end, today))
        user_ids = {uid for uid in (*cards, *followups, *portfolio) if uid}
        if users is not None:
            user_ids = set(users.ids)
        kept = self.search(
            [
                ("company_id", "=", company.id),
                ("period_kind", "=", period_kind),
                ("date_start", "=", start),
                *([("user_id", "in", users.ids)] if users is not None else []),
            ]
        )
        approved = kept.filtered(lambda c: c.state == "approved")
        (kept - approved).unlink()
        now = fields.Datetime.now()
        values = []
        for user_id in sorted(user_ids - set(approved.user_id.ids)):
            card = cards.get(user_id) or scorecards.Scorecard(user_id)
            open_count, overdue_count, done_count = followups.get(user_id, (0, 0, 0))
            portfolio_count, portfolio_risk = portfolio.get(user_id, (0, 0.0))
            kept_count, plan_count = coverage.get(user_id, (0, 0))
            values.append(
                {
                    "company_id": company.id,
                    "user_id": user_id,
                    "period_kind": period_kind,
                    "date_start": start,
                    "date_end": end,
                    "computed_on": now,
                    **{name: getattr(card, name) for name in FIGURES},
                    "followup_open_count": open_count,
                    "followup_overdue_count": overdue_count,
                    "followup_done_count": done_count,
                    "portfolio_count": portfolio_count,
                    "portfolio_risk": portfolio_risk,
                    "contact_plan_count": plan_count,
                    "contact_plan_kept_count": kept_count,
                    "contact_coverage": 100.0 * kept_count / plan_count if plan_count else 0.0,
                    "bonus_expansion_percent": plan.expansion_percent,
                    "bonus_per_reactivated": plan.per_reactivated,
                    "bonus_churn_penalty": plan.churn_penalty,
                    "bonus_high_value_threshold": plan.high_value_threshold,
                    "line_ids": [
                        Command.create(
                            {
                                "partner_id": line.partner_id,
                                "revenue": line.revenue,
                                "revenue_previous": line.revenue_previous,
                                "retained_revenue": line.retained_revenue,
                                "expansion_revenue": line.expansion_revenue,
                                "reactivated": line.reactivated,
                                "churned": line.churned,
                                "high_value_churn": line.high_value_churn,
                                "revenue_lost": line.revenue_lost,
                            }
                        )
                        for line in card.lines.values()
                    ],
                }
            )
        created = self.with_context(tracking_disable=True).create(values)
        return created | approved

    @api.model
    def _read_revenue(self, company, previous_start, start, end):
        """{(salesperson, customer): revenue} of the period by order
        salesperson, and {customer: revenue} of the previous period."""
        rows = self.env.execute_query(
            SQL(
                """
                WITH purchases AS (%(purchases)s)
                SELECT day >= %(start)s, user_id, partner_id, SUM(%(value)s)
                  FROM purchases
                 WHERE day >= %(previous_start)s
                 GROUP BY 1, 2, 3
                """,
                purchases=self.env["retention.customer.stat"]._purchases_query(company, end, None),
                value=self.env["retention.customer.stat"]._purchase_value_sql(company),
                start=start,
                previous_start=previous_start,
            )
        )
        revenue, previous = {}, {}
        for current, user_id, partner_id, amount in rows:
            if current:
                revenue[(user_id, partner_id)] = amount
            else:
                previous[partner_id] = previous.get(partner_id, 0.0) + amount
        return revenue, previous

    @api.model
    def _read_movements(self, company, months):
        """Reactivations and churns of the period's customer-months, each with
        its own salesperson."""
        self.env["retention.customer.month"].flush_model()
        return self.env.execute_query(
            SQL(
                """
                SELECT reactivated_user_id, partner_id, TRUE, FALSE, 0.0
                  FROM retention_customer_month
                 WHERE company_id = %(company)s
                   AND month = ANY(%(months)s)
                   AND reactivated_count = 1
                 UNION ALL
                SELECT churned_user_id, partner_id, FALSE, TRUE, revenue_lost
                  FROM retention_customer_month
                 WHERE company_id = %(company)s
                   AND month = ANY(%(months)s)
                   AND churned_count = 1
                """,
                company=company.id,
                months=months,
            )
        )

    @api.model
    def _read_followups(self, company, start, end, today):
        """{salesperson: (open, overdue, done in the period)} of retention
        follow-ups (activities planned by the company's playbooks)."""
        counts = {}
        activities = (
            self.env["mail.activity"]
            .sudo()
            ._read_group(
                [("retention_playbook_id.company_id", "=", company.id)],
                ["user_id"],
                ["__count"],
            )
        )
        overdue = dict(
            self.env["mail.activity"]
            .sudo()
            ._read_group(
                [
                    ("retention_playbook_id.company_id", "=", company.id),
                    ("date_deadline", "<", today),
                ],
                ["user_id"],
                ["__count"],
            )
        )
        for user, count in activities:
            counts[user.id] = [count, overdue.get(user, 0), 0]
        done = (
            self.env["retention.playbook.run"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "=", company.id),
                    ("activity_done_date", ">=", start),
                    ("activity_done_date", "<=", end),
                ],
                ["activity_done_user_id"],
                ["__count"],
            )
        )
        for user, count in done:
            counts.setdefault(user.id, [0, 0, 0])[2] = count
        return {user_id: tuple(values) for user_id, values in counts.items() if user_id}

    @api.model
    def _read_portfolio(self, company, last_month):
        """{salesperson: (active customers, average churn risk in %)} at the end
        of the period."""
        self.env["retention.customer.month"].flush_model()
        self.env["retention.customer.stat"].flush_model(["p_alive"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT month.user_id, COUNT(*), AVG(1 - stat.p_alive) * 100
                  FROM retention_customer_month month
                  LEFT JOIN retention_customer_stat stat
                         ON stat.partner_id = month.partner_id
                        AND stat.company_id = month.company_id
                 WHERE month.company_id = %(company)s
                   AND month.month = %(month)s
                   AND month.active_count = 1
                   AND month.user_id IS NOT NULL
                 GROUP BY month.user_id
                """,
                company=company.id,
                month=last_month,
            )
        )
        return {user_id: (count, risk or 0.0) for user_id, count, risk in rows}

    @api.model
    def _read_contact_coverage(self, company, as_of):
        """{salesperson: (customers contacted within their tier's cadence,
        customers with a cadence)} as of the day ``as_of``."""
        Stat = self.env["retention.customer.stat"].sudo()
        stats = Stat.search(
            [
                ("company_id", "=", company.id),
                ("user_id", "!=", False),
                ("value_tier_id.contact_cadence_days", ">", 0),
            ]
        )
        kept = Stat._contact_coverage(stats, today=as_of)
        coverage = {}
        for stat in stats:
            covered, total = coverage.get(stat.user_id.id, (0, 0))
            coverage[stat.user_id.id] = (covered + kept[stat.id], total + 1)
        return coverage

    @api.model
    def _cron_compute_last_month(self):
        """On the first days of a month: the previous month's scorecards of every
        company with retention figures, one company per call."""
        today = fields.Date.context_today(self)
        last_month = add_months(month_start(today), -1)
        companies = self.env["res.company"].search(
            [
                ("retention_dashboard_last_run", "!=", False),
                "|",
                ("retention_scorecard_last_month", "=", False),
                ("retention_scorecard_last_month", "<", last_month),
            ]
        )
        if not companies:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return
        company = companies[0]
        try:
            with self.env.cr.savepoint():
                self._compute_period(company, "month", last_month)
        except DashboardBusyError:
            # Its dashboard is being rebuilt: come back when that is done.
            self.env.ref("retention_loyalty.ir_cron_retention_scorecards")._trigger(
                fields.Datetime.now() + timedelta(minutes=10)
            )
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return
        except CONCURRENCY_ERRORS:
            raise
        except Exception:  # pylint: disable=broad-except
            # Logged and left for Compute Scorecards: the other companies go on.
            _logger.exception("Scorecards of %s could not be computed", company.name)
        company.sudo().retention_scorecard_last_month = last_month
        self.env["ir.cron"]._notify_progress(done=1, remaining=len(companies) - 1)
