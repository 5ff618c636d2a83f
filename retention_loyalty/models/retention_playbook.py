import logging
import threading
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import safe_eval

from ..engine.playbooks import cooled_down, in_control_group, is_overdue, order_matches
from .retention_customer_stat import RISK_LEVEL_SELECTION

_logger = logging.getLogger(__name__)

TRIGGERS = [
    ("order_confirmed", "Order confirmed"),
    ("segment_entered", "Entered a value x risk segment"),
    ("overdue", "Overdue for the next order"),
    ("no_contact", "No contact for N days"),
    ("points_expiring", "Loyalty points expiring"),
    ("subscription_ending", "Subscription ending"),
    ("club_reached", "Club level reached"),
    ("club_lost", "Club level lost"),
    ("birthday", "Birthday"),
    ("anniversary", "Customer anniversary"),
]


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
    last_evaluated = fields.Date(readonly=True, copy=False)

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
            playbook._parsed_domain()

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def _compute_run_count(self):
        counts = dict(
            self.env["retention.playbook.run"]._read_group(
                [("playbook_id", "in", self.ids)], ["playbook_id"], ["__count"]
            )
        )
        for playbook in self:
            playbook.run_count = counts.get(playbook, 0)

    def _parsed_domain(self):
        self.ensure_one()
        try:
            domain = safe_eval.safe_eval(self.partner_domain or "[]")
            self.env["res.partner"].search_count(domain, limit=1)
        except Exception as error:
            raise ValidationError(
                self.env._(
                    "Playbook %(name)s: the customer filter is not valid (%(error)s).",
                    name=self.name,
                    error=error,
                )
            ) from error
        return domain

    @api.model
    @tools.ormcache()
    def _order_playbook_ids(self):
        """Active order-triggered playbooks per company, cached until a
        playbook changes, so orders pay nothing when there are none."""
        groups = defaultdict(list)
        for playbook in self.sudo().search(
            [("trigger", "=", "order_confirmed"), ("order_delay_days", "=", 0)]
        ):
            groups[playbook.company_id.id].append(playbook.id)
        return {company: tuple(ids) for company, ids in groups.items()}

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_playbook_run_action"
        )
        action["domain"] = [("playbook_id", "=", self.id)]
        return action

    def action_run_now(self):
        """Evaluate this time-based playbook now (administrators)."""
        for playbook in self:
            playbook._evaluate(fields.Date.context_today(self))
        return True

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
            day = today - timedelta(days=self.order_delay_days)
            orders = (
                self.env["sale.order"]
                .sudo()
                .search(
                    [
                        ("company_id", "=", company.id),
                        ("state", "=", "sale"),
                        ("date_order", ">=", day),
                        ("date_order", "<", day + timedelta(days=1)),
                    ]
                )
            )
            return {order.partner_id.commercial_partner_id.id: order.id for order in orders}
        if self.trigger == "overdue":
            stats = Stat.search([("company_id", "=", company.id), ("last_order_date", "!=", False)])
            return {
                stat.partner_id.id: False
                for stat in stats
                if is_overdue(
                    stat.days_since_last_order,
                    stat.median_gap_days,
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
            limit = today - timedelta(days=self.trigger_days)
            return {
                stat.partner_id.id: False
                for stat in stats
                if max(stat.last_order_date, last_runs.get(stat.partner_id) or stat.last_order_date)
                <= limit
            }
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
        if self.trigger in ("club_reached", "club_lost"):
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
            day = today + timedelta(days=self.trigger_days)
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
            return {
                partner: False
                for partner, when in dates.items()
                if (when.month, when.day) == (day.month, day.day) and when.year < day.year
            }
        return {}

    def _filter_partners(self, partner_ids):
        """The candidates that match the playbook's customer filter."""
        self.ensure_one()
        if not partner_ids:
            return set()
        domain = [("id", "in", list(partner_ids)), *self._parsed_domain()]
        if self.salesperson_ids:
            domain.append(("user_id", "in", self.salesperson_ids.ids))
        partners = set(
            self.env["res.partner"].sudo().with_context(active_test=False)._search(domain)
        )
        if self.value_tier_ids or self.risk_level:
            stat_domain = [
                ("company_id", "=", self.company_id.id),
                ("partner_id", "in", list(partners)),
            ]
            if self.value_tier_ids:
                stat_domain.append(("value_tier_id", "in", self.value_tier_ids.ids))
            if self.risk_level:
                stat_domain.append(("risk_level", "=", self.risk_level))
            partners &= set(
                self.env["retention.customer.stat"].sudo().search(stat_domain).partner_id.ids
            )
        if self.club_ids and self.trigger not in ("club_reached", "club_lost"):
            members = (
                self.env["retention.club.membership"]
                .sudo()
                .search(
                    [
                        ("partner_id", "in", list(partners)),
                        ("club_id", "in", self.club_ids.ids),
                        ("state", "in", ("active", "grace")),
                    ]
                )
            )
            partners &= set(members.partner_id.ids)
        return partners

    # ------------------------------------------------------------------ execution

    def _evaluate(self, today, candidates=None):
        """Run the playbook for today's candidates (or the given ones: a dict
        partner id -> triggering order id). Returns the runs logged."""
        self.ensure_one()
        candidates = self._candidates(today) if candidates is None else candidates
        partners = self._filter_partners(set(candidates))
        Run = self.env["retention.playbook.run"].sudo()
        if partners:
            recent = {
                partner.id: last
                for partner, last in Run._read_group(
                    [
                        ("playbook_id", "=", self.id),
                        ("partner_id", "in", list(partners)),
                        ("state", "!=", "failed"),
                    ],
                    ["partner_id"],
                    ["date:max"],
                )
            }
            open_activities = set(
                self.env["mail.activity"]
                .sudo()
                .search(
                    [
                        ("retention_playbook_id", "=", self.id),
                        ("res_model", "=", "res.partner"),
                        ("res_id", "in", list(partners)),
                    ]
                )
                .mapped("res_id")
            )
            partners = {
                partner_id
                for partner_id in partners
                if partner_id not in open_activities
                and cooled_down(recent.get(partner_id), today, self.cooldown_days)
            }
        runs = Run.browse()
        if partners:
            ordered = sorted(partners)
            control = [p for p in ordered if in_control_group(self.id, p, self.control_percent)]
            contacted = [p for p in ordered if p not in set(control)]
            runs = self._execute(contacted, control, candidates, today)
        self.sudo().last_evaluated = today
        return runs

    def _execute(self, contacted, control, candidates, today):
        """Run every action for the contacted customers, all or nothing, and
        log one run per customer (control group included)."""
        Run = self.env["retention.playbook.run"].sudo()
        partners = self.env["res.partner"].sudo().browse(contacted)
        base = {"playbook_id": self.id, "date": today}
        try:
            with self.env.cr.savepoint():
                results = defaultdict(dict)
                notes = defaultdict(list)
                for action in self.action_ids.sorted("sequence"):
                    action._run(partners, today, results, notes)
        except Exception as error:
            _logger.warning("Playbook %s failed: %s", self.name, error)
            return Run.create(
                [
                    {**base, "partner_id": partner.id, "state": "failed", "message": str(error)}
                    for partner in partners
                ]
            )
        vals_list = [
            {
                **base,
                "partner_id": partner.id,
                "order_id": candidates.get(partner.id) or False,
                "state": "done",
                "message": "\n".join(notes[partner.id]) or False,
                **results[partner.id],
            }
            for partner in partners
        ]
        vals_list += [
            {
                **base,
                "partner_id": partner_id,
                "order_id": candidates.get(partner_id) or False,
                "in_control": True,
                "state": "control",
            }
            for partner_id in control
        ]
        return Run.create(vals_list)

    @api.model
    def _run_for_orders(self, orders):
        """Order-triggered playbooks, in one pass for the confirmed orders."""
        playbook_ids = []
        for company in orders.company_id:
            playbook_ids += self._order_playbook_ids().get(company.id, ())
        if not playbook_ids:
            return
        partners = orders.partner_id.commercial_partner_id
        counts = dict(
            self.env["sale.order"]
            .sudo()
            ._read_group(
                [("partner_id", "child_of", partners.ids), ("state", "=", "sale")],
                ["partner_id"],
                ["__count"],
            )
        )
        per_customer = defaultdict(int)
        for partner, count in counts.items():
            per_customer[partner.commercial_partner_id.id] += count
        today = fields.Date.context_today(self)
        for playbook in self.sudo().browse(playbook_ids):
            candidates = {
                order.partner_id.commercial_partner_id.id: order.id
                for order in orders
                if order.company_id == playbook.company_id
                and order_matches(
                    per_customer[order.partner_id.commercial_partner_id.id],
                    playbook.order_mode,
                    playbook.order_number,
                )
            }
            if candidates:
                playbook._evaluate(today, candidates)

    @api.model
    def _cron_evaluate(self):
        """Daily run of the time-based playbooks, one playbook per call so a
        crash loses one playbook's work at most."""
        today = fields.Date.context_today(self)
        due = self.search(
            [
                "|",
                ("trigger", "!=", "order_confirmed"),
                ("order_delay_days", ">", 0),
                "|",
                ("last_evaluated", "=", False),
                ("last_evaluated", "<", today),
            ]
        )
        if not due:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return
        due[0]._evaluate(today)
        self.env["ir.cron"]._notify_progress(done=1, remaining=len(due) - 1)
        if not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit
