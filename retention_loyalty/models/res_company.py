from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine import customer_movement, customer_scoring, scorecards
from ..engine.dunning import parse_retry_days
from ..engine.recurrence import parse_recurrences
from ..engine.segments import RiskThresholds

INVOICE_POLICY_SELECTION = [
    ("none", "No invoice"),
    ("draft", "Draft invoice"),
    ("posted", "Posted invoice"),
    ("posted_sent", "Posted and sent"),
]
DASHBOARD_DEFINITIONS = {
    "retention_active_days",
    "retention_churn_days",
    "retention_reactivation_days",
    "retention_revenue_source",
}
# Settings every customer's figures depend on: changing one ranks and scores
# everyone again at the next run, not only the customers with new orders.
STATISTICS_DEFINITIONS = {
    "retention_revenue_source",
    "retention_tier_basis",
    "retention_clv_horizon_months",
    "retention_monthly_discount_rate",
    "retention_value_basis",
    "retention_default_margin_rate",
}


class ResCompany(models.Model):
    _inherit = "res.company"

    retention_revenue_source = fields.Selection(
        [("orders", "Confirmed sales orders"), ("invoices", "Posted invoices net of refunds")],
        string="Revenue Source",
        default="orders",
        required=True,
        help="Where customer statistics take purchases and revenue from. Invoices net "
        "credit notes off the revenue; orders count what was sold when it was sold.",
    )
    retention_tier_basis = fields.Selection(
        [
            ("revenue", "Revenue (or margin), trailing 12 months"),
            ("clv", "Predicted lifetime value"),
        ],
        string="Value Tiers By",
        default="revenue",
        required=True,
    )
    retention_value_basis = fields.Selection(
        [("revenue", "Revenue"), ("margin", "Margin")],
        string="Customer Value In",
        default="revenue",
        required=True,
        help="Revenue, or margin (untaxed amount less the cost of what was sold) for the "
        "customers' value: lifetime value, value at stake, value tiers and scorecards.",
    )
    retention_default_margin_rate = fields.Float(
        string="Margin Rate of Lines Without Cost (%)",
        default=0.0,
        help="Lines of products without a cost (cost 0, product not marked as free of cost) "
        "count this share of their revenue as margin; at 0 they add no margin. They never "
        "count as 100 % margin.",
    )
    retention_email_cost = fields.Monetary(
        string="Cost per E-mail",
        currency_field="currency_id",
        help="Counted as an incentive cost for every e-mail a playbook sends.",
    )
    retention_acquisition_source = fields.Selection(
        [("fixed", "A fixed amount per month"), ("analytic", "Expenses of an analytic account")],
        string="Acquisition Spend From",
        default="fixed",
        required=True,
    )
    retention_acquisition_monthly = fields.Monetary(
        string="Acquisition Spend per Month", currency_field="currency_id"
    )
    retention_acquisition_analytic_id = fields.Many2one(
        "account.analytic.account",
        string="Acquisition Analytic Account",
        help="The month's expenses (negative analytic amounts) on this account are the "
        "acquisition spend.",
    )
    retention_clv_horizon_months = fields.Integer(
        string="Lifetime Value Horizon (months)", default=12, required=True
    )
    retention_monthly_discount_rate = fields.Float(
        string="Monthly Discount Rate",
        default=0.01,
        digits=(5, 4),
        help="Rate that discounts future revenue in the lifetime value (0.01 = 1 % a month).",
    )
    retention_refit_interval_days = fields.Integer(
        string="Refit the Model Every (days)",
        default=7,
        required=True,
        help="The daily update uses the last fitted model; its parameters are fitted anew "
        "on all customers at this interval.",
    )
    retention_holdout_days = fields.Integer(
        string="Holdout Window (days)",
        default=180,
        required=True,
        help="At each refit the model is also fitted without the last days of history and "
        "its predictions for those days are compared with what customers bought.",
    )
    retention_min_repeat_customers = fields.Integer(
        string="Minimum Repeat Customers for the Model",
        default=30,
        required=True,
        help="Below this many customers with a repeat purchase, the statistical model "
        "is not fitted and a rhythm-based estimate is used instead.",
    )

    @api.constrains("retention_default_margin_rate")
    def _check_retention_default_margin_rate(self):
        for company in self:
            if not -100.0 <= company.retention_default_margin_rate < 100.0:
                raise ValidationError(
                    self.env._(
                        "The margin rate of lines without cost must be at least -100 %% and "
                        "below 100 %%."
                    )
                )

    def _retention_value_label(self):
        """'Margin' or 'Revenue': what customer values are counted in."""
        self.ensure_one()
        return dict(self._fields["retention_value_basis"]._description_selection(self.env))[
            self.retention_value_basis
        ]

    retention_medium_p_alive = fields.Float(string="Medium Risk Below P(alive)", default=0.6)
    retention_high_p_alive = fields.Float(string="High Risk Below P(alive)", default=0.3)
    retention_lost_p_alive = fields.Float(string="Lost Below P(alive)", default=0.1)
    retention_medium_overdue = fields.Float(
        string="Medium Risk From Overdue Ratio",
        default=1.0,
        help="A customer past their usual gap (ratio above 1) is at least Medium; "
        "a ratio below 1 flags them before.",
    )
    retention_high_overdue = fields.Float(string="High Risk From Overdue Ratio", default=2.5)
    retention_lost_overdue = fields.Float(string="Lost From Overdue Ratio", default=4.0)
    retention_value_tier_ids = fields.One2many(
        "retention.value.tier", "company_id", string="Value Tiers"
    )
    retention_last_run = fields.Datetime(
        string="Customer Statistics Updated On", readonly=True, copy=False
    )
    retention_last_refit = fields.Datetime(string="Model Fitted On", readonly=True, copy=False)
    retention_last_reage = fields.Date(
        string="Customer Risks Re-aged On", readonly=True, copy=False
    )
    retention_full_run_requested = fields.Boolean(readonly=True, copy=False)
    retention_stat_watermark = fields.Char(
        readonly=True,
        copy=False,
        help="Technical: the oldest database transaction running when the customer statistics "
        "were last read; the next update reads again what it and younger ones wrote.",
    )
    retention_stat_failed_on = fields.Datetime(
        string="Customer Statistics Failed On", readonly=True, copy=False
    )
    retention_subscription_portal_manage = fields.Boolean(
        string="Customers Manage Subscriptions",
        default=True,
        help="Customers may pause or close their subscriptions in the portal.",
    )
    retention_subscription_change_mode = fields.Selection(
        [
            ("next", "From the next order"),
            ("now", "Now, prorated"),
        ],
        string="Subscription Changes Apply",
        default="next",
        required=True,
        help="Now, prorated: a change of a running subscription's services is charged (or "
        "credited) at once for the rest of the current period, in a separate order. Goods "
        "are delivered per order: their changes always apply from the next order.",
    )
    retention_price_notice_days = fields.Integer(
        string="Announce Price Increases (days)",
        default=30,
        help="A subscription's order is dearer than its last one only when the customer was "
        "told at least this many days before; until then the last prices hold. 0: prices "
        "change without notice.",
    )
    retention_portal_change_quantity = fields.Boolean(
        string="Customers Change Quantities",
        default=True,
        help="Customers may change the quantities of their subscriptions in the portal, from "
        "the next order.",
    )
    retention_portal_skip_order = fields.Boolean(
        string="Customers Skip an Order",
        default=True,
        help="Customers may skip their subscription's next order in the portal, one at a time.",
    )
    retention_portal_renew = fields.Boolean(
        string="Customers Renew Online",
        default=True,
        help="Customers of a fixed-term subscription may renew it for another term by signing "
        "a renewal quotation in the portal.",
    )
    retention_portal_change_recurrence = fields.Boolean(
        string="Customers Change the Recurrence",
        default=True,
        help="Customers may change how often their subscription orders, among the allowed "
        "recurrences, from the next order.",
    )
    retention_portal_recurrences = fields.Char(
        string="Recurrences Customers Choose",
        default="1 month, 2 months, 3 months, 1 year",
        help='Recurrences offered to customers in the portal, e.g. "1 month, 3 months, 1 year". '
        "Each order stays the same: it only comes more or less often.",
    )
    retention_subscription_invoice_policy = fields.Selection(
        INVOICE_POLICY_SELECTION,
        string="Subscription Invoices",
        default="none",
        required=True,
        help="Default of new subscriptions: what becomes of each period's order once confirmed.",
    )
    retention_dunning_retry_days = fields.Char(
        string="Payment Retries (days)",
        default="1,3,7",
        help="Days after a failed subscription payment when it is tried again, e.g. 1,3,7.",
    )
    retention_dunning_final_action = fields.Selection(
        [("pause", "Pause the subscription"), ("close", "Close the subscription")],
        string="After the Last Retry",
        default="pause",
        required=True,
    )
    retention_quick_reorder_min_orders = fields.Integer(
        string="Quick Reorder: Usual When Bought in",
        default=2,
        required=True,
        help="On the key accounts' Quick reorder page, a product is usual (and its typical "
        "quantity proposed) when bought in at least this many of the last orders looked at.",
    )
    retention_quick_reorder_last_orders = fields.Integer(
        string="Quick Reorder: Last Orders Looked At",
        default=4,
        required=True,
        help="The Quick reorder page offers the products of this many of the customer's most "
        "recent orders.",
    )
    retention_quick_reorder_confirm = fields.Boolean(
        string="Quick Reorder Confirms the Order",
        help="The Quick reorder page confirms the order at once, instead of making a quotation "
        "the customer signs or pays online. Standing orders asked for there then confirm "
        "their orders too.",
    )
    retention_standing_order_state = fields.Selection(
        [("draft", "Our team starts it"), ("active", "Starts at once")],
        string="Standing Orders from the Portal",
        default="draft",
        required=True,
        help="A standing order a key account asks for on the Quick reorder page is a draft "
        "subscription the team starts, or runs at once.",
    )
    retention_club_last_run = fields.Date(
        string="Club Memberships Updated On", readonly=True, copy=False
    )
    retention_club_failed_on = fields.Date(readonly=True, copy=False)

    retention_active_days = fields.Integer(
        string="Active For (days)",
        default=365,
        required=True,
        help="A customer is active while their last purchase is at most this many days old.",
    )
    retention_churn_days = fields.Integer(
        string="Churned After (days)",
        default=365,
        required=True,
        help="A customer churns when this many days pass without a purchase.",
    )
    retention_reactivation_days = fields.Integer(
        string="Reactivated After (days)",
        default=365,
        required=True,
        help="A purchase after at least this many days without one reactivates the customer.",
    )
    retention_bonus_expansion_percent = fields.Float(
        string="Bonus on Expansion Revenue (%)",
        help="Share of the expansion revenue of retained customers paid as retention bonus.",
    )
    retention_bonus_per_reactivated = fields.Monetary(
        string="Bonus per Reactivated Customer", currency_field="currency_id"
    )
    retention_bonus_churn_penalty = fields.Monetary(
        string="Penalty per High-Value Churned Customer", currency_field="currency_id"
    )
    retention_bonus_high_value_threshold = fields.Monetary(
        string="High Value From (revenue lost)",
        currency_field="currency_id",
        help="A churned customer is high value when what they bought in the active period "
        "up to their last purchase reaches this amount.",
    )
    retention_dashboard_last_run = fields.Datetime(
        string="Retention Dashboard Updated On", readonly=True, copy=False
    )
    retention_dashboard_requested = fields.Boolean(readonly=True, copy=False)
    retention_dashboard_failed_on = fields.Datetime(readonly=True, copy=False)
    retention_scorecard_last_month = fields.Date(
        string="Scorecards Computed For", readonly=True, copy=False
    )

    def write(self, vals):
        if not self.env.context.get("install_mode"):
            if DASHBOARD_DEFINITIONS & set(vals):
                vals = {**vals, "retention_dashboard_requested": True}
            if any(
                company[name] != vals[name]
                for name in STATISTICS_DEFINITIONS & set(vals)
                for company in self
            ):
                vals = {**vals, "retention_full_run_requested": True}
        return super().write(vals)

    def _retention_dashboard_stale(self):
        """Not rebuilt since the start of today (UTC, like the stored time),
        or asked for, e.g. after the definitions changed."""
        self.ensure_one()
        start_of_today = fields.Datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        return (
            self.retention_dashboard_requested
            or not self.retention_dashboard_last_run
            or self.retention_dashboard_last_run < start_of_today
        )

    def _retention_movement_settings(self):
        self.ensure_one()
        return customer_movement.MovementSettings(
            active_days=self.retention_active_days,
            churn_days=self.retention_churn_days,
            reactivation_days=self.retention_reactivation_days,
        )

    def _retention_bonus_plan(self):
        self.ensure_one()
        return scorecards.BonusPlan(
            expansion_percent=self.retention_bonus_expansion_percent,
            per_reactivated=self.retention_bonus_per_reactivated,
            churn_penalty=self.retention_bonus_churn_penalty,
            high_value_threshold=self.retention_bonus_high_value_threshold,
        )

    @api.constrains(
        "retention_active_days",
        "retention_churn_days",
        "retention_reactivation_days",
        "retention_bonus_expansion_percent",
        "retention_bonus_per_reactivated",
        "retention_bonus_churn_penalty",
        "retention_bonus_high_value_threshold",
    )
    def _check_retention_dashboard_settings(self):
        for company in self:
            try:
                company._retention_movement_settings().validate()
                company._retention_bonus_plan().validate()
            except ValueError as error:
                raise ValidationError(
                    self.env._("%(company)s: %(error)s", company=company.name, error=error)
                ) from error

    def _retention_risk_thresholds(self):
        self.ensure_one()
        return RiskThresholds(
            medium_p_alive=self.retention_medium_p_alive,
            high_p_alive=self.retention_high_p_alive,
            lost_p_alive=self.retention_lost_p_alive,
            medium_overdue=self.retention_medium_overdue,
            high_overdue=self.retention_high_overdue,
            lost_overdue=self.retention_lost_overdue,
        )

    @api.constrains("retention_dunning_retry_days")
    def _check_retention_dunning_retry_days(self):
        for company in self:
            try:
                parse_retry_days(company.retention_dunning_retry_days)
            except ValueError as error:
                raise ValidationError(
                    self.env._("Payment retries: %(error)s.", error=error)
                ) from error

    @api.constrains("retention_portal_recurrences")
    def _check_retention_portal_recurrences(self):
        for company in self:
            try:
                parse_recurrences(company.retention_portal_recurrences)
            except ValueError as error:
                raise ValidationError(
                    self.env._("Recurrences customers choose: %(error)s", error=error)
                ) from error

    def _retention_dunning_days(self):
        self.ensure_one()
        return parse_retry_days(self.retention_dunning_retry_days)

    @api.constrains("retention_quick_reorder_min_orders", "retention_quick_reorder_last_orders")
    def _check_retention_quick_reorder(self):
        for company in self:
            if not (
                1
                <= company.retention_quick_reorder_min_orders
                <= company.retention_quick_reorder_last_orders
                <= 50
            ):
                raise ValidationError(
                    self.env._(
                        "Quick reorder of %(company)s: a product is usual when bought in at least "
                        "one of the last orders looked at (at most 50).",
                        company=company.name,
                    )
                )

    @api.constrains(
        "retention_medium_p_alive",
        "retention_high_p_alive",
        "retention_lost_p_alive",
        "retention_medium_overdue",
        "retention_high_overdue",
        "retention_lost_overdue",
    )
    def _check_retention_risk_thresholds(self):
        for company in self:
            try:
                company._retention_risk_thresholds().validate()
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "Risk thresholds of %(company)s: %(error)s",
                        company=company.name,
                        error=error,
                    )
                ) from error

    @api.constrains(
        "retention_clv_horizon_months",
        "retention_monthly_discount_rate",
        "retention_refit_interval_days",
        "retention_holdout_days",
        "retention_min_repeat_customers",
    )
    def _check_retention_model_settings(self):
        for company in self:
            settings = customer_scoring.ScoringSettings(
                horizon_months=company.retention_clv_horizon_months,
                monthly_discount_rate=company.retention_monthly_discount_rate,
                min_repeat_customers=company.retention_min_repeat_customers,
            )
            problems = []
            try:
                settings.validate()
            except ValueError as error:
                problems.append(str(error))
            if company.retention_refit_interval_days < 1:
                problems.append(self.env._("The model must be refitted at least once a day."))
            if company.retention_holdout_days < 7:
                problems.append(self.env._("The holdout window must cover at least 7 days."))
            if problems:
                raise ValidationError("\n".join(problems))
