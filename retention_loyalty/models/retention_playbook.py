import logging
import threading
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_date, safe_eval

from ..engine.playbooks import (
    catch_up_window,
    cooled_down,
    in_control_group,
    is_overdue,
    order_matches,
    recurring_between,
)
from ..report.retention_playbook_roi import VERDICTS as ROI_VERDICTS
from .retention_customer_month import CONCURRENCY_ERRORS
from .retention_customer_stat import RISK_LEVEL_SELECTION

_logger = logging.getLogger(__name__)

TRIGGERS = [
    ("order_confirmed", "Order confirmed"),
    ("segment_entered", "Entered a value x risk segment"),
    ("overdue", "Overdue for the next order"),
    ("no_contact", "No contact for N days"),
    ("reorder_due", "Next order due within N days"),
    ("invoice_overdue", "Invoice overdue for N days"),
    ("quotation_lost", "Quotation cancelled or expired"),
    ("points_expiring", "Loyalty points expiring"),
    ("subscription_ending", "Subscription ending"),
    ("club_reached", "Club level reached"),
    ("club_lost", "Club level lost"),
    ("birthday", "Birthday"),
    ("anniversary", "Customer anniversary"),
]
CLUB_TRIGGERS = ("club_reached", "club_lost")


class RetentionPlaybook(models.Model):
    """A retention follow-up rule: when something happens to a customer who
    matches the filter, run the actions, at most once per cool-down, and
    keep a control group aside to measure the effect."""

    _name = "retention.playbook"
    _description = "Retention Playbook"
    _inherit = ["mail.thread"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    trigger = fields.Selection(TRIGGERS, required=True, default="order_confirmed", tracking=True)
    order_mode = fields.Selection(
        [("every", "Every order"), ("first", "First order"), ("nth", "Nth order")],
        default="every",
    )
    order_number = fields.Integer(default=2)
    order_delay_days = fields.Integer(
        string="Days After the Order",
        default=0,
        help="0 runs when the order is confirmed; more runs from the daily cron that many "
        "days later (a survey a week after the order).",
    )
    overdue_factor = fields.Float(
        string="Times the Usual Gap",
        default=2.0,
        help="Overdue when the days since the last order exceed this many times the "
        "customer's usual days between orders.",
    )
    trigger_days = fields.Integer(
        string="Days",
        default=30,
        help="Overdue: days since the last order (0 to use only the usual gap). No contact: "
        "days without an order or a run of this playbook. Points, subscriptions: days "
        "before the expiry or the end. Birthday/anniversary: days ahead.",
    )
    value_tier_ids = fields.Many2many(
        "retention.value.tier", string="Value Tiers", check_company=True
    )
    risk_level = fields.Selection(RISK_LEVEL_SELECTION)
    club_ids = fields.Many2many("retention.club", string="Clubs", check_company=True)
    salesperson_ids = fields.Many2many("res.users", string="Salespeople")
    partner_domain = fields.Char(
        string="Customer Filter", default="[]", help="Domain on the customer (commercial partner)."
    )
    filters_customers = fields.Boolean(
        compute="_compute_filters_customers",
        store=True,
        help="Technical: the playbook keeps only some customers (filter, tiers, risk, clubs, "
        "salespeople), so order confirmations need not read its filters otherwise.",
    )
    cooldown_days = fields.Integer(
        string="Cool-down (days)",
        default=30,
        help="A customer is not followed up by this playbook again within this many days.",
    )
    control_percent = fields.Float(
        string="Control Group (%)",
        default=10.0,
        help="Share of the customers logged but not contacted, to measure the effect.",
    )
    effect_window_days = fields.Integer(
        string="Effect Window (days)",
        default=60,
        help="Reorders and revenue within this many days after the trigger count as effect.",
    )
    action_ids = fields.One2many("retention.playbook.action", "playbook_id", copy=True)
    run_ids = fields.One2many("retention.playbook.run", "playbook_id")
    run_count = fields.Integer(compute="_compute_run_count")
    # Return on investment (report/retention_playbook_roi.py): measured runs only.
    roi_id = fields.Many2one(
        "retention.playbook.roi",
        string="Return on Investment",
        compute="_compute_roi",
        groups="retention_loyalty.group_retention_manager",
    )
    roi_verdict = fields.Selection(
        ROI_VERDICTS,
        string="Verdict",
        compute="_compute_roi",
        groups="retention_loyalty.group_retention_manager",
    )
    roi_verdict_text = fields.Char(
        string="Verdict Explained",
        compute="_compute_roi",
        groups="retention_loyalty.group_retention_manager",
    )
    roi_currency_id = fields.Many2one(
        related="company_id.currency_id", groups="retention_loyalty.group_retention_manager"
    )
    roi_net_return = fields.Monetary(
        string="Net Return per Reached",
        compute="_compute_roi",
        currency_field="roi_currency_id",
        groups="retention_loyalty.group_retention_manager",
    )
    roi_net_low = fields.Monetary(
        string="Net Return (low)",
        compute="_compute_roi",
        currency_field="roi_currency_id",
        groups="retention_loyalty.group_retention_manager",
    )
    roi_net_high = fields.Monetary(
        string="Net Return (high)",
        compute="_compute_roi",
        currency_field="roi_currency_id",
        groups="retention_loyalty.group_retention_manager",
    )
    roi_cost_per_reached = fields.Monetary(
        string="Incentive Cost per Reached",
        compute="_compute_roi",
        currency_field="roi_currency_id",
        groups="retention_loyalty.group_retention_manager",
    )
    reach_count = fields.Integer(
        string="Customers Reached Now",
        compute="_compute_reach_count",
        help="Customers of the company who pass every filter of the playbook today (customer "
        "filter, value tiers, risk, clubs, salespeople); the trigger then picks among them.",
    )
    last_evaluated = fields.Date(
        readonly=True,
        copy=False,
        help="The daily run has covered the days up to this one (time-based playbooks).",
    )
    last_failed_on = fields.Date(
        string="Failed On",
        readonly=True,
        copy=False,
        help="The daily run failed on this day; it tries again the next day.",
    )
    last_error = fields.Text(readonly=True, copy=False)

    @api.constrains(
        "cooldown_days",
        "control_percent",
        "effect_window_days",
        "trigger_days",
        "order_delay_days",
        "active",
    )
    def _check_playbook(self):
        for playbook in self:
            if min(playbook.cooldown_days, playbook.trigger_days, playbook.order_delay_days) < 0:
                raise ValidationError(
                    self.env._("Playbook %(name)s: days cannot be negative.", name=playbook.name)
                )
            if not 0 <= playbook.control_percent <= 50:
                raise ValidationError(
                    self.env._(
                        "Playbook %(name)s: the control group is between 0 and 50 %%.",
                        name=playbook.name,
                    )
                )
            if playbook.effect_window_days <= 0:
                raise ValidationError(
                    self.env._(
                        "Playbook %(name)s: the effect window needs at least one day.",
                        name=playbook.name,
                    )
                )
            if playbook.active and not playbook.action_ids:
                raise ValidationError(
                    self.env._("Playbook %(name)s has no action.", name=playbook.name)
                )
            if playbook.active:
                playbook.action_ids._check_action()
            playbook._check_partner_domain()

    def write(self, vals):
        # Turned on again, a playbook starts from the day it is turned on: no
        # catch-up of the days it was off.
        restarted = (
            self.filtered(lambda playbook: not playbook.active) if vals.get("active") else ()
        )
        res = super().write(vals)
        if restarted:
            restarted.sudo().last_evaluated = False
        return res

    @api.depends(
        "partner_domain", "salesperson_ids", "value_tier_ids", "risk_level", "club_ids", "trigger"
    )
    def _compute_filters_customers(self):
        for playbook in self:
            playbook.filters_customers = bool(
                "".join((playbook.partner_domain or "[]").split()) != "[]"
                or playbook.salesperson_ids
                or playbook.value_tier_ids
                or playbook.risk_level
                or (playbook.club_ids and playbook.trigger not in CLUB_TRIGGERS)
            )

    def _compute_roi(self):
        # One read of the report for all playbooks shown, its intervals at once.
        rois = self.env["retention.playbook.roi"].search([("playbook_id", "in", self.ids)])
        by_playbook = {roi.playbook_id.id: roi for roi in rois}
        for playbook in self:
            roi = by_playbook.get(playbook.id, rois.browse())
            playbook.roi_id = roi
            playbook.roi_verdict = roi.verdict
            playbook.roi_verdict_text = roi.verdict_text
            playbook.roi_net_return = roi.net_return
            playbook.roi_net_low = roi.net_low
            playbook.roi_net_high = roi.net_high
            playbook.roi_cost_per_reached = roi.cost_per_reached

    def action_view_roi(self):
        """The playbook's return on investment, with its confidence intervals."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_playbook_roi_action"
        )
        action.update(
            {"res_id": self.id, "view_mode": "form", "views": [(False, "form")], "domain": []}
        )
        return action

    def _compute_run_count(self):
        counts = dict(
            self.env["retention.playbook.run"]._read_group(
                [("playbook_id", "in", self.ids)], ["playbook_id"], ["__count"]
            )
        )
        for playbook in self:
            playbook.run_count = counts.get(playbook, 0)

    @api.depends(
        "partner_domain", "salesperson_ids", "value_tier_ids", "risk_level", "club_ids", "trigger"
    )
    def _compute_reach_count(self):
        # The customers are the company's scored customers; the same matching
        # code as a run keeps those who pass the filters, in one query per company.
        Stat = self.env["retention.customer.stat"].sudo()
        for company, playbooks in self.grouped("company_id").items():
            customers = set(
                Stat.search_fetch([("company_id", "=", company.id)], ["partner_id"]).partner_id.ids
            )
            try:
                reached = self._matching_partners(dict.fromkeys(playbooks, customers))
            except ValidationError:
                reached = {}  # a customer filter being edited: no count until it is valid
            for playbook in playbooks:
                playbook.reach_count = len(reached.get(playbook, ()))

    @api.model
    def _apply_top_value_tier(self, playbook_ids):
        """Give the ready-made playbooks meant for the best customers ("A
        customers", "high-value") the company's top value tier, as long as
        they are still as shipped: archived, never run, without tiers."""
        playbooks = self.with_context(active_test=False).browse(playbook_ids).exists()
        for playbook in playbooks.filtered(
            lambda pb: not pb.active and not pb.value_tier_ids and not pb.run_ids
        ):
            tiers = self.env["retention.value.tier"]._ensure_company_tiers(playbook.company_id)
            playbook.value_tier_ids = tiers[:1]

    def _partner_domain(self):
        """The customer filter as a domain."""
        self.ensure_one()
        return safe_eval.safe_eval(self.partner_domain or "[]")

    def _invalid_filter(self, error):
        return ValidationError(
            self.env._(
                "Playbook %(name)s: the customer filter is not valid (%(error)s).",
                name=self.name,
                error=error,
            )
        )

    def _check_partner_domain(self):
        self.ensure_one()
        try:
            self.env["res.partner"].search_count(self._partner_domain(), limit=1)
        except Exception as error:
            raise self._invalid_filter(error) from error

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_playbook_run_action"
        )
        action["domain"] = [("playbook_id", "=", self.id)]
        return action

    def action_view_effect(self):
        """The playbook's reached customers against its control group."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_playbook_effect_action"
        )
        action["domain"] = [("playbook_id", "=", self.id)]
        return action

    def action_run_now(self):
        """Run these time-based playbooks for today now, instead of waiting
        for the daily cron. Administrators only: playbooks hand out points,
        vouchers and club levels and send mass emails. Once a day, as the
        cron: a customer is never followed up twice for the same day."""
        if not self.env.user.has_group("retention_loyalty.group_retention_manager"):
            raise AccessError(self.env._("Only retention administrators can run playbooks."))
        self.check_access("write")
        today = fields.Date.context_today(self)
        for playbook in self:
            if not playbook.active or playbook._runs_on_confirmation():
                raise UserError(
                    self.env._(
                        "Playbook %(name)s runs by itself: only active time-based "
                        "playbooks can be run now.",
                        name=playbook.name,
                    )
                )
            if playbook.last_evaluated and playbook.last_evaluated >= today:
                raise UserError(
                    self.env._(
                        "Playbook %(name)s has already run today; it runs again tomorrow.",
                        name=playbook.name,
                    )
                )
        runs = self.env["retention.playbook.run"]
        for playbook in self:
            runs |= playbook._evaluate(today)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Playbook run"),
                "message": self._run_now_summary(runs),
                "type": "warning" if "failed" in runs.mapped("state") else "success",
                "sticky": False,
                # The form's run count and history follow.
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _run_now_summary(self, runs):
        """What a run by hand did, in words: followed up, control group, failed."""
        contacted = runs.filtered(lambda run: run.state in ("open", "done"))
        control = runs.filtered("in_control")
        failed = runs.filtered(lambda run: run.state == "failed")
        if not runs:
            return self.env._("No customer to follow up today.")
        return self.env._(
            "%(contacted)s customer(s) followed up, %(control)s in the control group, "
            "%(failed)s failed.",
            contacted=len(contacted),
            control=len(control),
            failed=len(failed),
        )

    def _runs_on_confirmation(self):
        self.ensure_one()
        return self.trigger == "order_confirmed" and not self.order_delay_days

    # ------------------------------------------------------------------ candidates

    def _candidates(self, today):
        """Commercial partner ids the trigger selects today, with an optional
        source record per partner (the order, membership... that triggered)."""
        self.ensure_one()
        company = self.company_id
        Stat = self.env["retention.customer.stat"].sudo()
        since = self.last_evaluated or (today - timedelta(days=1))
        if self.trigger == "order_confirmed":
            # Delayed order playbooks (a survey a week after the order) run from the cron.
            return self._delayed_order_candidates(today)
        if self.trigger == "overdue":
            stats = Stat.search([("company_id", "=", company.id), ("last_order_date", "!=", False)])
            return {
                stat.partner_id.id: False
                for stat in stats
                if is_overdue(
                    stat.days_since_last_order,
                    stat.usual_gap_days,
                    self.overdue_factor,
                    self.trigger_days,
                )
            }
        if self.trigger == "no_contact":
            stats = Stat.search([("company_id", "=", company.id), ("last_order_date", "!=", False)])
            last_runs = dict(
                self.env["retention.playbook.run"]
                .sudo()
                ._read_group([("playbook_id", "=", self.id)], ["partner_id"], ["date:max"])
            )
            # Every real touch counts: orders, done activities, messages, events,
            # and this playbook's own earlier runs.
            touches = (
                self.env["res.partner"]
                .sudo()
                ._retention_last_touches(company, stats.partner_id.ids)
            )
            limit = today - timedelta(days=self.trigger_days)
            candidates = {}
            for stat in stats:
                touch = touches.get(stat.partner_id.id)
                last_contact = max(
                    day
                    for day in (
                        stat.last_order_date,
                        touch and touch.day,
                        last_runs.get(stat.partner_id),
                    )
                    if day
                )
                if last_contact <= limit:
                    candidates[stat.partner_id.id] = False
            return candidates
        if self.trigger == "reorder_due":
            # From each customer's own expected next order; those already
            # overdue are the "overdue" trigger's.
            stats = Stat.search(
                [
                    ("company_id", "=", company.id),
                    ("expected_next_order_date", ">=", today),
                    ("expected_next_order_date", "<=", today + timedelta(days=self.trigger_days)),
                ]
            )
            return dict.fromkeys(stats.partner_id.ids, False)
        if self.trigger == "invoice_overdue":
            # Each invoice once: on the day it has been overdue for N days
            # (days missed while the cron was down are caught up).
            window = catch_up_window(self.last_evaluated, today)
            if not window:
                return {}
            first, last = window
            invoices = (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        ("company_id", "=", company.id),
                        ("move_type", "=", "out_invoice"),
                        ("state", "=", "posted"),
                        ("payment_state", "in", ("not_paid", "partial")),
                        ("invoice_date_due", ">=", first - timedelta(days=self.trigger_days)),
                        ("invoice_date_due", "<=", last - timedelta(days=self.trigger_days)),
                    ]
                )
            )
            return dict.fromkeys(invoices.commercial_partner_id.ids, False)
        if self.trigger == "quotation_lost":
            window = catch_up_window(self.last_evaluated, today)
            if not window:
                return {}
            first, last = window
            Order = self.env["sale.order"].sudo()
            lost = Order.search(
                [
                    ("company_id", "=", company.id),
                    ("retention_cancelled_on", ">=", first),
                    ("retention_cancelled_on", "<=", last),
                ]
            ) | Order.search(
                [
                    ("company_id", "=", company.id),
                    ("state", "in", ("draft", "sent")),
                    # Expired the day after its last valid day.
                    ("validity_date", ">=", first - timedelta(days=1)),
                    ("validity_date", "<=", last - timedelta(days=1)),
                ]
            )
            return {order.partner_id.commercial_partner_id.id: order.id for order in lost}
        if self.trigger == "segment_entered":
            history = (
                self.env["retention.segment.history"]
                .sudo()
                .search(
                    [("company_id", "=", company.id), ("date", ">", since), ("date", "<=", today)]
                )
            )
            return {
                row.partner_id.id: False
                for row in history
                if (not self.value_tier_ids or row.value_tier_id in self.value_tier_ids)
                and (not self.risk_level or row.risk_level == self.risk_level)
                and (
                    row.old_value_tier_id != row.value_tier_id
                    or row.old_risk_level != row.risk_level
                )
            }
        if self.trigger == "points_expiring":
            lots = (
                self.env["retention.points.entry"]
                .sudo()
                .search(
                    [
                        ("company_id", "=", company.id),
                        ("remaining", ">", 0),
                        ("expiry_date", ">", today),
                        ("expiry_date", "<=", today + timedelta(days=self.trigger_days)),
                    ]
                )
            )
            return {lot.partner_id.commercial_partner_id.id: False for lot in lots}
        if self.trigger == "subscription_ending":
            subscriptions = (
                self.env["retention.subscription"]
                .sudo()
                .search([("company_id", "=", company.id), ("state", "=", "active")])
            )
            horizon = today + timedelta(days=self.trigger_days)
            result = {}
            for subscription in subscriptions:
                end = subscription._term_end()
                if end is not None and today <= end <= horizon:
                    result[subscription.partner_id.id] = False
            return result
        if self.trigger in CLUB_TRIGGERS:
            Membership = self.env["retention.club.membership"].sudo()
            domain = [("company_id", "=", company.id)]
            if self.club_ids:
                domain.append(("club_id", "in", self.club_ids.ids))
            if self.trigger == "club_reached":
                domain += [("state", "in", ("active", "grace")), ("date_start", ">", since)]
            else:
                domain += [("state", "=", "expired"), ("date_end", ">=", since)]
            return {membership.partner_id.id: False for membership in Membership.search(domain)}
        if self.trigger in ("birthday", "anniversary"):
            window = catch_up_window(self.last_evaluated, today)
            if not window:
                return {}
            if self.trigger == "birthday":
                partners = (
                    self.env["res.partner"]
                    .sudo()
                    .search([("retention_birthday", "!=", False), ("is_company", "=", False)])
                )
                dates = {partner.id: partner.retention_birthday for partner in partners}
            else:
                stats = Stat.search(
                    [("company_id", "=", company.id), ("first_order_date", "!=", False)]
                )
                dates = {stat.partner_id.id: stat.first_order_date for stat in stats}
            ahead = timedelta(days=self.trigger_days)
            return dict.fromkeys(
                recurring_between(dates, window[0] + ahead, window[1] + ahead), False
            )
        return {}

    def _delayed_order_candidates(self, today):
        """The orders confirmed ``order_delay_days`` before the days the cron
        covers today (missed days included), not followed up yet."""
        window = catch_up_window(self.last_evaluated, today)
        if not window:
            return {}
        delay = timedelta(days=self.order_delay_days)
        orders = self._orders_to_follow_up(window[0] - delay, window[1] - delay + timedelta(days=1))
        return self._order_candidates(orders)[self]

    def _orders_to_follow_up(self, date_from, date_to):
        """The confirmed orders of the playbook's company dated from
        ``date_from`` to before ``date_to`` it has not followed up yet, oldest
        first (a list: bridges add their own purchases, a PoS order)."""
        self.ensure_one()
        followed = (
            self.env["retention.playbook.run"]
            .sudo()
            ._search([("playbook_id", "=", self.id), ("order_id", "!=", False)])
        )
        orders = (
            self.env["sale.order"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("state", "=", "sale"),
                    ("date_order", ">=", date_from),
                    ("date_order", "<", date_to),
                    ("id", "not in", followed.subselect("order_id")),
                ],
                order="date_order, id",
            )
        )
        return list(orders)

    def _order_candidates(self, orders):
        """``{playbook: {customer id: order}}``: the confirmed ``orders`` (a
        recordset or a list of orders of several models, oldest first) each
        playbook follows up (every order, or the customer's first or Nth order
        in the playbook's company); the latest order of a customer wins."""
        ranks = {}
        if any(playbook.order_mode != "every" for playbook in self):
            ranks = self._order_ranks(orders)
        return {
            playbook: {
                order.partner_id.commercial_partner_id.id: order
                for order in orders
                if order.company_id == playbook.company_id
                and order_matches(
                    ranks.get((order._name, order.id)), playbook.order_mode, playbook.order_number
                )
            }
            for playbook in self
        }

    @api.model
    def _confirmed_orders_query(self, customer_ids):
        """Rows (order_model, order_id, customer_id, company_id, date_order)
        of the confirmed orders of these commercial partners: the purchases a
        customer's first or Nth order is counted among. Bridges add theirs."""
        self.env["sale.order"].flush_model(["partner_id", "company_id", "state", "date_order"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        return SQL(
            """
            SELECT 'sale.order'::varchar AS order_model, sale.id AS order_id,
                   partner.commercial_partner_id AS customer_id,
                   sale.company_id, sale.date_order
              FROM sale_order sale
              JOIN res_partner partner ON partner.id = sale.partner_id
             WHERE sale.state = 'sale'
               AND partner.commercial_partner_id = ANY(%s)
            """,
            list(customer_ids),
        )

    @api.model
    def _order_ranks(self, orders):
        """``{(model, order id): rank}`` of each confirmed order among the
        confirmed orders of its customer (contacts included) in its company,
        1 for the first; one query for all orders."""
        if not orders:
            return {}
        customers = {order.partner_id.commercial_partner_id.id for order in orders}
        rows = self.env.execute_query(
            SQL(
                """
                SELECT order_model, order_id, rank FROM (
                    SELECT order_model, order_id, row_number() OVER (
                               PARTITION BY customer_id, company_id
                               ORDER BY date_order, order_id, order_model
                           ) AS rank
                      FROM (%s) confirmed
                ) ranked
                 WHERE (order_model, order_id) IN %s
                """,
                self._confirmed_orders_query(customers),
                tuple((order._name, order.id) for order in orders),
            )
        )
        return {(model, order_id): rank for model, order_id, rank in rows}

    def _filter_query(self, partner_ids):
        """The query of the candidates that match the playbook's customer
        filter, value tiers, risk, clubs and salespeople; None when the
        playbook keeps every candidate."""
        self.ensure_one()
        if not self.filters_customers:
            return None
        try:
            domain = [("id", "in", list(partner_ids)), *self._partner_domain()]
            if self.salesperson_ids:
                domain.append(("user_id", "in", self.salesperson_ids.ids))
            query = self.env["res.partner"].sudo().with_context(active_test=False)._search(domain)
        except Exception as error:
            raise self._invalid_filter(error) from error
        partner_id = SQL.identifier(query.table, "id")
        if self.value_tier_ids or self.risk_level:
            stat_domain = [("company_id", "=", self.company_id.id)]
            if self.value_tier_ids:
                stat_domain.append(("value_tier_id", "in", self.value_tier_ids.ids))
            if self.risk_level:
                stat_domain.append(("risk_level", "=", self.risk_level))
            stats = self.env["retention.customer.stat"].sudo()._search(stat_domain)
            query.add_where(
                SQL(
                    "%s IN %s",
                    partner_id,
                    stats.subselect(SQL.identifier(stats.table, "partner_id")),
                )
            )
        if self.club_ids and self.trigger not in CLUB_TRIGGERS:
            members = (
                self.env["retention.club.membership"]
                .sudo()
                ._search(
                    [("club_id", "in", self.club_ids.ids), ("state", "in", ("active", "grace"))]
                )
            )
            query.add_where(
                SQL(
                    "%s IN %s",
                    partner_id,
                    members.subselect(SQL.identifier(members.table, "partner_id")),
                )
            )
        return query

    @api.model
    def _matching_partners(self, partners_by_playbook):
        """``{playbook: candidate ids that match its filters}``, read in one
        query for all the playbooks."""
        result = {}
        selects = []
        matched = defaultdict(set)
        # Keyed by position, not id: the form counts the reach of unsaved playbooks.
        for index, (playbook, partner_ids) in enumerate(partners_by_playbook.items()):
            query = playbook._filter_query(partner_ids)
            if query is None:
                result[playbook] = set(partner_ids)
            else:
                selects.append(query.subselect(SQL("%s", index), SQL.identifier(query.table, "id")))
        if selects:
            for index, partner_id in self.env.execute_query(SQL(" UNION ALL ").join(selects)):
                matched[index].add(partner_id)
        # In the given order: playbooks run by sequence.
        return {
            playbook: result[playbook] if playbook in result else matched[index]
            for index, playbook in enumerate(partners_by_playbook)
        }

    # ------------------------------------------------------------------ execution

    def _evaluate(self, today):
        """Run this time-based playbook for today's candidates and note the
        day as covered. Returns the runs logged."""
        self.ensure_one()
        runs = self._follow_up({self: self._candidates(today)}, today)
        self._remind_unconfirmed_quotations(today)
        self.sudo().write({"last_evaluated": today, "last_failed_on": False, "last_error": False})
        return runs

    def _remind_unconfirmed_quotations(self, today):
        """A to-do for the salesperson on each usual-basket quotation of this
        playbook still not confirmed after the action's reminder delay, once."""
        self.ensure_one()
        delays = [
            action.basket_reminder_days
            for action in self.action_ids
            if action.kind == "basket" and action.basket_reminder_days
        ]
        if not delays:
            return
        runs = (
            self.env["retention.playbook.run"]
            .sudo()
            .search(
                [
                    ("playbook_id", "=", self.id),
                    ("quotation_id.state", "in", ("draft", "sent")),
                    ("quotation_reminded", "=", False),
                    ("date", "<=", today - timedelta(days=min(delays))),
                ]
            )
        )
        for run in runs:
            quotation = run.quotation_id
            quotation.with_context(mail_activity_quick_update=True).activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=(quotation.user_id or run.partner_id.user_id or self.create_uid).id,
                summary=self.env._("Usual basket not confirmed yet"),
                note=self.env._(
                    "%(customer)s has not confirmed %(quotation)s, proposed on %(date)s by "
                    "playbook %(playbook)s.",
                    customer=run.partner_id.display_name,
                    quotation=quotation.name,
                    date=format_date(self.env, run.date),
                    playbook=self.name,
                ),
            )
        runs.quotation_reminded = True

    @api.model
    def _follow_up(self, candidates, today):
        """Run playbooks for their candidates (``{playbook: {partner id:
        triggering order id or False}}``) and return the runs logged. The
        filters, the cool-down and the open follow-ups are read in a few
        queries for all playbooks; each playbook then runs its actions, and the
        runs of all are inserted at once. Nothing is written on the playbooks."""
        Run = self.env["retention.playbook.run"].sudo()
        reached = self._matching_partners(
            {playbook: set(partners) for playbook, partners in candidates.items() if partners}
        )
        partner_ids = list(set().union(*reached.values()))
        if not partner_ids:
            return Run.browse()
        playbook_ids = [playbook.id for playbook in reached]
        recent = {
            (playbook.id, partner.id): last
            for playbook, partner, last in Run._read_group(
                [
                    ("playbook_id", "in", playbook_ids),
                    ("partner_id", "in", partner_ids),
                    ("state", "!=", "failed"),
                ],
                ["playbook_id", "partner_id"],
                ["date:max"],
            )
        }
        open_followups = {
            (activity.retention_playbook_id.id, activity.res_id)
            for activity in self.env["mail.activity"]
            .sudo()
            .search_fetch(
                [
                    ("retention_playbook_id", "in", playbook_ids),
                    ("res_model", "=", "res.partner"),
                    ("res_id", "in", partner_ids),
                ],
                ["retention_playbook_id", "res_id"],
            )
        }
        vals_list = []
        for playbook, partners in reached.items():
            ordered = sorted(
                partner_id
                for partner_id in partners
                if (playbook.id, partner_id) not in open_followups
                and cooled_down(
                    recent.get((playbook.id, partner_id)), today, playbook.cooldown_days
                )
            )
            if ordered:
                control = {
                    p for p in ordered if in_control_group(playbook.id, p, playbook.control_percent)
                }
                contacted = [p for p in ordered if p not in control]
                vals_list += playbook._execute(
                    contacted, sorted(control), candidates[playbook], today
                )
        runs = Run.create(vals_list)
        self.env["retention.incentive.cost"].sudo()._record_email_costs(runs)
        return runs

    def _execute(self, contacted, control, candidates, today):
        """Run every action for the contacted customers, all or nothing, and
        return the values of one run per customer (control group included)."""
        partners = self.env["res.partner"].sudo().browse(contacted)
        base = {"playbook_id": self.id, "date": today}
        try:
            with self.env.cr.savepoint():
                results = defaultdict(dict)
                notes = defaultdict(list)
                for action in self.action_ids.sorted("sequence"):
                    action._run(partners, today, results, notes)
        except CONCURRENCY_ERRORS:
            raise  # Odoo retries the whole transaction
        except Exception as error:
            _logger.warning("Playbook %s failed: %s", self.name, error)
            return [
                {**base, "partner_id": partner.id, "state": "failed", "message": str(error)}
                for partner in partners
            ]
        vals_list = [
            {
                **base,
                "partner_id": partner.id,
                **self._run_origin_values(candidates.get(partner.id)),
                "state": "open" if results[partner.id].get("activity_id") else "done",
                "message": "\n".join(notes[partner.id]) or False,
                **results[partner.id],
            }
            for partner in partners
        ]
        vals_list += [
            {
                **base,
                "partner_id": partner_id,
                **self._run_origin_values(candidates.get(partner_id)),
                "in_control": True,
                "state": "control",
            }
            for partner_id in control
        ]
        return vals_list

    @api.model
    def _run_origin_values(self, origin):
        """The fields of a run naming what triggered it: a sales order (record
        or id). Bridges name their own documents (a PoS order)."""
        if not origin:
            return {}
        if isinstance(origin, int):
            return {"order_id": origin}
        if origin._name == "sale.order":
            return {"order_id": origin.id}
        return {}

    @api.model
    def _run_for_orders(self, orders):
        """Order-triggered playbooks for the confirmed orders, in one pass:
        a constant number of queries whatever the playbooks and orders, no
        write on a playbook, no cache to clear. A broken playbook is logged
        and never blocks the sale."""
        playbooks = self.sudo().search_fetch(
            [
                ("trigger", "=", "order_confirmed"),
                ("order_delay_days", "=", 0),
                ("company_id", "in", orders.company_id.ids),
            ],
            [
                "company_id",
                "order_mode",
                "order_number",
                "cooldown_days",
                "control_percent",
                "filters_customers",
            ],
        )
        if not playbooks:
            return
        try:
            with self.env.cr.savepoint():
                self._follow_up(
                    playbooks._order_candidates(orders), fields.Date.context_today(self)
                )
        except CONCURRENCY_ERRORS:
            raise  # Odoo retries the whole transaction
        except Exception:
            _logger.exception("Order playbooks failed for orders %s", orders.ids)

    @api.model
    def _cron_evaluate(self):
        """Daily run of the time-based playbooks, one playbook per call (the
        cron runs again while some are left), each committed on its own. A
        playbook that fails is logged, keeps its error for the administrators
        and is left alone until the next day, when it catches up."""
        today = fields.Date.context_today(self)
        due = self.search(
            [
                "|",
                ("trigger", "!=", "order_confirmed"),
                ("order_delay_days", ">", 0),
                "|",
                ("last_evaluated", "=", False),
                ("last_evaluated", "<", today),
                "|",
                ("last_failed_on", "=", False),
                ("last_failed_on", "<", today),
            ]
        )
        if not due:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return
        playbook = due[0]
        try:
            with self.env.cr.savepoint():
                playbook._evaluate(today)
        except CONCURRENCY_ERRORS:
            raise  # Odoo retries the cron on fresh data
        except Exception as error:  # pylint: disable=broad-except
            # One broken playbook must not hold the others back every day.
            _logger.exception("Retention playbook %s could not be evaluated", playbook.name)
            playbook.sudo().write(
                {
                    "last_failed_on": today,
                    "last_error": str(error)
                    if isinstance(error, UserError)
                    else self.env._("Unexpected error: see the server log."),
                }
            )
        self.env["ir.cron"]._notify_progress(done=1, remaining=len(due) - 1)
        if not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit
