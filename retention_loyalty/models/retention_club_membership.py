import logging
import threading
from collections import defaultdict
from datetime import timedelta

import numpy as np
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..engine.clubs import (
    DOWNGRADE,
    END_GRACE,
    NO_LEVEL,
    START_GRACE,
    UPGRADE,
    plan_transitions,
    qualified_levels,
)
from .retention_club import ACTIVE_STATES
from .retention_customer_month import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)

# What a membership gives and how it came about: set by purchases,
# qualification and Cancel Membership, by hand only by retention
# administrators (salespeople may date memberships of open clubs).
MANAGED_FIELDS = {
    "partner_id",
    "club_id",
    "state",
    "origin",
    "date_start",
    "date_end",
    "grace_until",
    "awaiting_payment",
    "order_id",
    "renewal_order_id",
    "cancel_reason",
}
# Clubs whose policy lets salespeople enrol customers by hand.
OPEN_POLICIES = ("free", "invitation")

QUIET = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


class RetentionClubMembership(models.Model):
    """A customer's membership of a club, from its start to its end."""

    _name = "retention.club.membership"
    _description = "Club Membership"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        tracking=True,
        help="Memberships belong to the commercial partner: a company and its contacts.",
    )
    club_id = fields.Many2one(
        "retention.club", required=True, index=True, ondelete="restrict", tracking=True
    )
    ladder_id = fields.Many2one(
        related="club_id.ladder_id", store=True, index=True, precompute=True
    )
    company_id = fields.Many2one(
        related="club_id.company_id", store=True, index=True, precompute=True
    )
    user_id = fields.Many2one(related="partner_id.user_id", string="Salesperson")
    date_start = fields.Date(
        string="Start", required=True, default=fields.Date.context_today, tracking=True
    )
    date_end = fields.Date(string="End", tracking=True)
    grace_until = fields.Date(tracking=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("active", "Active"),
            ("grace", "Grace Period"),
            ("expired", "Expired"),
            ("cancelled", "Cancelled"),
        ],
        default="active",
        required=True,
        index=True,
        tracking=True,
    )
    origin = fields.Selection(
        [
            ("qualified", "Qualified"),
            ("purchase", "Purchase"),
            ("invitation", "Invitation"),
            ("enrolment", "Enrolment"),
        ],
        default="invitation",
        required=True,
    )
    awaiting_payment = fields.Boolean(
        help="A paid membership that starts when its invoice is paid."
    )
    order_id = fields.Many2one("sale.order", string="Sales Order", index="btree_not_null")
    renewal_order_id = fields.Many2one("sale.order", string="Renewal Quotation", copy=False)
    cancel_reason = fields.Char(tracking=True)
    color = fields.Integer(related="club_id.color")

    def init(self):
        # The database itself keeps a customer to one current level per
        # ladder (or per club outside ladders).
        self.env.cr.execute(
            SQL(
                """CREATE UNIQUE INDEX IF NOT EXISTS retention_club_membership_one_current
                   ON retention_club_membership (partner_id, COALESCE(ladder_id, -club_id))
                   WHERE state IN ('active', 'grace')"""
            )
        )

    @api.depends("partner_id", "club_id")
    def _compute_display_name(self):
        for membership in self:
            membership.display_name = (
                f"{membership.partner_id.display_name or ''} - {membership.club_id.name or ''}"
            )

    @api.model_create_multi
    def create(self, vals_list):
        partners = self.env["res.partner"].browse(
            {vals["partner_id"] for vals in vals_list if vals.get("partner_id")}
        )
        commercial = {partner.id: partner.commercial_partner_id.id for partner in partners}
        for vals in vals_list:
            if vals.get("partner_id"):
                vals["partner_id"] = commercial[vals["partner_id"]]
        clubs = (
            self.env["retention.club"]
            .sudo()
            .browse({vals["club_id"] for vals in vals_list if vals.get("club_id")})
        )
        for vals in vals_list:
            club = clubs.filtered(lambda c, vals=vals: c.id == vals.get("club_id"))
            if club.policy == "paid" and not vals.get("date_end"):
                start = fields.Date.to_date(vals.get("date_start")) or fields.Date.context_today(
                    self
                )
                vals["date_end"] = club._membership_end(start)
        if not self._retention_admin():
            self._check_manual_enrolment(vals_list)
        self._check_free_slots(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if MANAGED_FIELDS & set(vals) and not self._retention_admin():
            self._check_manual_change(vals)
        return super().write(vals)

    def _retention_admin(self):
        return self.env.su or self.env.user.has_group("retention_loyalty.group_retention_manager")

    @api.model
    def _check_manual_enrolment(self, vals_list):
        """Salespeople enrol customers by hand into free and invitation clubs
        only: paid clubs take a purchase, qualified ones a qualification."""
        clubs = (
            self.env["retention.club"].sudo().browse({vals.get("club_id") for vals in vals_list})
        )
        for vals in vals_list:
            club = clubs.filtered(lambda c, vals=vals: c.id == vals.get("club_id"))
            if club.policy not in OPEN_POLICIES:
                raise AccessError(
                    self.env._(
                        "Customers join %(club)s by buying its membership or by qualifying for "
                        "it; only retention administrators enrol them by hand.",
                        club=club.display_name,
                    )
                )
            if (
                vals.get("origin", "invitation") not in ("invitation", "enrolment")
                or vals.get("state", "active") not in ("active", "pending")
                or any(
                    vals.get(name)
                    for name in ("order_id", "renewal_order_id", "awaiting_payment", "grace_until")
                )
            ):
                raise AccessError(
                    self.env._(
                        "An enrolment by hand is an invitation or an enrolment, active or "
                        "pending; only retention administrators record anything else."
                    )
                )

    def _check_manual_change(self, vals):
        dates_only = set(vals) & MANAGED_FIELDS <= {"date_start", "date_end"}
        if not dates_only or any(
            membership.club_id.policy not in OPEN_POLICIES for membership in self.sudo()
        ):
            raise AccessError(
                self.env._(
                    "Memberships follow what customers buy and qualify for, and end through "
                    "Cancel Membership with a reason; only retention administrators change them "
                    "by hand."
                )
            )

    @api.model
    def _check_free_slots(self, vals_list):
        """Refuse, before writing anything, a second current membership of a
        customer in one ladder (or club outside ladders)."""
        current = [vals for vals in vals_list if vals.get("state", "active") in ACTIVE_STATES]
        if not current:
            return
        clubs = self.env["retention.club"].sudo().browse({vals["club_id"] for vals in current})
        slot_of = {club.id: club.ladder_id or club for club in clubs}
        taken = {
            (
                membership.partner_id.id,
                slot_of.get(membership.club_id.id) or membership.ladder_id or membership.club_id,
            )
            for membership in self.sudo().search(
                [
                    ("partner_id", "in", [vals["partner_id"] for vals in current]),
                    ("state", "in", ACTIVE_STATES),
                ]
            )
        }
        for vals in current:
            key = (vals["partner_id"], slot_of[vals["club_id"]])
            if key in taken:
                raise ValidationError(
                    self.env._(
                        "%(customer)s already holds a current membership of %(slot)s; a customer "
                        "holds one level of a ladder at a time.",
                        customer=self.env["res.partner"].browse(key[0]).display_name,
                        slot=key[1].display_name,
                    )
                )
            taken.add(key)

    @api.constrains("state", "partner_id", "club_id", "date_start", "date_end")
    def _check_membership(self):
        for membership in self:
            if membership.date_end and membership.date_end < membership.date_start:
                raise ValidationError(
                    self.env._(
                        "Membership %(name)s ends before it starts.", name=membership.display_name
                    )
                )
        current = self.filtered(lambda membership: membership.state in ACTIVE_STATES)
        if not current:
            return
        groups = self._read_group(
            [
                ("partner_id", "in", current.partner_id.ids),
                ("state", "in", ACTIVE_STATES),
            ],
            ["partner_id", "ladder_id", "club_id"],
            ["__count"],
        )
        per_slot = defaultdict(int)
        for partner, ladder, club, count in groups:
            per_slot[(partner, ladder or club)] += count
        for (partner, slot), count in per_slot.items():
            if count > 1:
                raise ValidationError(
                    self.env._(
                        "%(customer)s would hold two current memberships of %(slot)s; a customer "
                        "holds one level of a ladder at a time.",
                        customer=partner.display_name,
                        slot=slot.display_name,
                    )
                )

    def _slot(self):
        """What a customer holds one of at a time: a level of a ladder, or a
        club outside ladders."""
        self.ensure_one()
        return self.ladder_id or self.club_id

    # ------------------------------------------------------------------ actions

    def action_cancel(self):
        return {
            "name": self.env._("Cancel Membership"),
            "type": "ir.actions.act_window",
            "res_model": "retention.club.cancel.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_membership_ids": self.ids},
        }

    def _cancel(self, reason):
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason for cancelling."))
        ended = self.filtered(lambda membership: membership.state in ("expired", "cancelled"))
        if ended:
            raise UserError(
                self.env._(
                    "These memberships have already ended: %(names)s.",
                    names=", ".join(ended.mapped("display_name")),
                )
            )
        # The user's rights on these memberships decide; the cancellation
        # itself writes what only administrators edit by hand.
        self.check_access("write")
        today = fields.Date.context_today(self)
        for membership in self.sudo():
            # A membership that had not started yet ends where it would have begun.
            membership.write(
                {
                    "state": "cancelled",
                    "cancel_reason": reason.strip(),
                    "date_end": max(
                        membership.date_start, min(today, membership.date_end or today)
                    ),
                    "grace_until": False,
                }
            )
        self.renewal_order_id.filtered(
            lambda order: order.state in ("draft", "sent")
        )._action_cancel()
        # A renewal bought in advance does not outlive the cancelled membership.
        current = self.filtered(lambda membership: membership.state != "pending")
        successors = self.sudo().search(
            [
                ("partner_id", "in", current.partner_id.ids),
                ("club_id", "in", current.club_id.ids),
                ("state", "=", "pending"),
                ("id", "not in", self.ids),
            ]
        )
        if successors:
            successors._cancel(self.env._("The previous membership was cancelled."))

    # ------------------------------------------------------------------ paid memberships

    @api.model
    def _start_purchased(self, orders):
        """Memberships bought on confirmed ``orders``: one per line of a paid
        club's product, once per order. A renewal starts the day after the
        customer's current membership of that club ends."""
        clubs = (
            self.env["retention.club"]
            .sudo()
            .search(
                [
                    ("policy", "=", "paid"),
                    ("product_id", "in", orders.order_line.product_id.ids),
                    ("company_id", "in", orders.company_id.ids),
                ]
            )
        )
        if not clubs:
            return self
        already = set(
            self.sudo()
            .search([("order_id", "in", orders.ids), ("state", "!=", "cancelled")])
            .order_id.ids
        )
        orders = orders.filtered(lambda order: order.id not in already)
        partners = orders.partner_id.commercial_partner_id
        self._lock_customers(partners)
        today = fields.Date.context_today(self)
        latest_end = self._latest_ends(partners, clubs)
        vals_list = []
        for order in orders:
            for line in order.order_line:
                club = clubs.filtered(
                    lambda c, line=line, order=order: (
                        c.product_id == line.product_id and c.company_id == order.company_id
                    )
                )[:1]
                if not club:
                    continue
                key = (order.partner_id.commercial_partner_id.id, club.id)
                start = (
                    max(today, latest_end[key] + relativedelta(days=1))
                    if key in latest_end
                    else today
                )
                end = club._membership_end(start)
                latest_end[key] = end
                vals_list.append(
                    {
                        "partner_id": key[0],
                        "club_id": club.id,
                        "origin": "purchase",
                        "order_id": order.id,
                        "date_start": start,
                        "date_end": end,
                        "awaiting_payment": club.start_on == "paid",
                        "state": "pending",
                    }
                )
        memberships = self.sudo().with_context(**QUIET).create(vals_list)
        memberships._activate_due(today)
        return memberships

    @api.model
    def _latest_ends(self, partners, clubs):
        """Last day of each customer's paid-up memberships per club (unpaid
        ones do not push a new purchase back)."""
        latest_end = {}
        for membership in self.sudo().search(
            [
                ("partner_id", "in", partners.ids),
                ("club_id", "in", clubs.ids),
                ("state", "in", ("pending", "active", "grace")),
                ("awaiting_payment", "=", False),
                ("date_end", "!=", False),
            ]
        ):
            key = (membership.partner_id.id, membership.club_id.id)
            latest_end[key] = max(latest_end.get(key, membership.date_end), membership.date_end)
        return latest_end

    @api.model
    def _lock_customers(self, partners):
        """Serialise membership changes of these customers between concurrent
        transactions (two orders confirmed at once): the second waits."""
        if partners:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM res_partner WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                    tuple(partners.ids),
                )
            )

    @api.model
    def _end_purchased(self, orders):
        """Memberships of cancelled orders end with them."""
        bought = self.sudo().search(
            [("order_id", "in", orders.ids), ("state", "in", ("pending", "active", "grace"))]
        )
        for order in bought.order_id:
            bought.filtered(lambda m, order=order: m.order_id == order)._cancel(
                self.env._("Order %(order)s was cancelled.", order=order.name)
            )

    def _start_on_payment(self, day):
        """Memberships waiting for their invoice start on the day it is paid
        (or when the current membership of the club ends), for their full
        duration."""
        latest_end = self._latest_ends(self.partner_id, self.club_id)
        for membership in self:
            key = (membership.partner_id.id, membership.club_id.id)
            start = max(day, latest_end[key] + relativedelta(days=1)) if key in latest_end else day
            end = membership.club_id._membership_end(start)
            latest_end[key] = end
            membership.write({"awaiting_payment": False, "date_start": start, "date_end": end})
        self._activate_due(day)

    def _activate_due(self, today):
        """Start pending memberships that are paid (or need no payment) and
        whose start date has come. One membership per customer and ladder:
        a new level ends the old one, and of several due at once the highest
        level starts while the others wait until it ends."""
        due = self.filtered(
            lambda m: m.state == "pending" and not m.awaiting_payment and m.date_start <= today
        )
        if not due:
            return
        by_slot = defaultdict(list)
        for membership in due:
            by_slot[(membership.partner_id.id, membership._slot())].append(membership)
        starting = self.browse()
        for memberships in by_slot.values():
            winner = max(memberships, key=lambda m: (m.club_id.sequence, m.date_start, m.id))
            starting |= winner
            for other in memberships:
                if other != winner:
                    other._postpone_after(winner)
        replaced = (
            self.sudo()
            .search(
                [
                    ("partner_id", "in", starting.partner_id.ids),
                    ("state", "in", ACTIVE_STATES),
                    ("id", "not in", starting.ids),
                ]
            )
            .filtered(lambda m: (m.partner_id.id, m._slot()) in by_slot)
        )
        renewals = starting.filtered(
            lambda m: any(r.club_id == m.club_id and r.partner_id == m.partner_id for r in replaced)
        )
        upgrades = starting.filtered(
            lambda m: any(r.partner_id == m.partner_id and r.club_id != m.club_id for r in replaced)
        )
        replaced.write({"state": "expired", "date_end": today, "grace_until": False})
        replaced.flush_recordset()
        starting.write({"state": "active"})
        # Pending memberships of the slot that would overlap wait their turn.
        waiting = self.sudo().search(
            [
                ("partner_id", "in", starting.partner_id.ids),
                ("state", "=", "pending"),
                ("id", "not in", starting.ids),
            ]
        )
        for membership in waiting:
            winner = starting.filtered(
                lambda m, membership=membership: (
                    m.partner_id == membership.partner_id
                    and m._slot() == membership._slot()
                    and m.club_id != membership.club_id
                )
            )[:1]
            if winner and winner.date_end and membership.date_start <= winner.date_end:
                membership._postpone_after(winner)
        upgrades._send_template("upgrade_template_id")
        (starting - renewals - upgrades)._send_template("welcome_template_id")

    def _postpone_after(self, membership):
        """Move this pending membership to start the day after ``membership``
        ends, for its full duration; without an end there is no turn to wait
        for, so it is cancelled."""
        self.ensure_one()
        if not membership.date_end:
            self._cancel(
                self.env._("Replaced by %(membership)s.", membership=membership.display_name)
            )
            return
        start = membership.date_end + relativedelta(days=1)
        self.write({"date_start": start, "date_end": self.club_id._membership_end(start)})

    def _send_template(self, template_field):
        if self.env.context.get("retention_club_no_mail"):
            return
        by_template = defaultdict(list)
        for membership in self:
            template = membership.club_id[template_field]
            if template and membership.partner_id.email:
                by_template[template].append(membership.id)
        for template, ids in by_template.items():
            template.send_mail_batch(ids, email_layout_xmlid="mail.mail_notification_light")

    # ------------------------------------------------------------------ qualification

    @api.model
    def _evaluate_qualified(
        self, today=None, partner_ids=None, allow_downgrade=True, company_ids=None
    ):
        """Move customers between the levels of qualified clubs: up at once,
        down only when the grace period is over. ``partner_ids`` limits the
        run to some commercial partners (an order's customers). Returns the
        number of changes."""
        today = today or fields.Date.context_today(self)
        changes = 0
        for clubs in self.env["retention.club"]._qualified_groups(company_ids):
            changes += self._evaluate_group(clubs, today, partner_ids, allow_downgrade)
        return changes

    def _evaluate_group(self, clubs, today, partner_ids, allow_downgrade):
        values = clubs._qualification_values(today, partner_ids)
        domain = [("club_id", "in", clubs.ids), ("state", "in", ACTIVE_STATES)]
        if partner_ids is not None:
            domain.append(("partner_id", "in", list(partner_ids)))
        held = {membership.partner_id.id: membership for membership in self.sudo().search(domain)}
        partners = sorted(set(values) | set(held))
        if not partners:
            return 0
        level_of = {club.id: index for index, club in enumerate(clubs)}
        held_level = np.array(
            [level_of[held[p].club_id.id] if p in held else NO_LEVEL for p in partners]
        )
        in_grace = np.array([p in held and held[p].state == "grace" for p in partners])
        grace_over = np.array(
            [
                p in held and bool(held[p].grace_until) and held[p].grace_until <= today
                for p in partners
            ]
        )
        qualified = qualified_levels(
            [values.get(p, 0.0) for p in partners], clubs.mapped("qualification_threshold")
        )
        plan = plan_transitions(held_level, qualified, in_grace, grace_over, allow_downgrade)
        Membership = self.env["retention.club.membership"].sudo().with_context(**QUIET)
        ids = {START_GRACE: [], END_GRACE: [], UPGRADE: [], DOWNGRADE: []}
        new_vals = []
        for index in np.flatnonzero(plan):
            partner_id = partners[index]
            action = int(plan[index])
            if partner_id in held:
                ids[action].append(held[partner_id].id)
            if action in (UPGRADE, DOWNGRADE) and qualified[index] != NO_LEVEL:
                new_vals.append(
                    {
                        "partner_id": partner_id,
                        "club_id": clubs[int(qualified[index])].id,
                        "origin": "qualified",
                        "date_start": today,
                        "state": "active",
                    }
                )
        grace_start = Membership.browse(ids[START_GRACE])
        back_active = Membership.browse(ids[END_GRACE])
        downgraded = Membership.browse(ids[DOWNGRADE])
        closing = Membership.browse(ids[UPGRADE] + ids[DOWNGRADE])
        for club in grace_start.club_id:
            grace_start.filtered(lambda m, club=club: m.club_id == club).write(
                {"state": "grace", "grace_until": club._grace_end(today)}
            )
        if back_active:
            back_active.write({"state": "active", "grace_until": False})
        if closing:
            closing.write({"state": "expired", "date_end": today, "grace_until": False})
            # The old level must be over in the database before the new one starts.
            closing.flush_recordset()
        created = Membership.create(new_vals)
        moved_down = set(downgraded.partner_id.ids)
        moved_up = set(Membership.browse(ids[UPGRADE]).partner_id.ids)
        downgraded._send_template("downgrade_template_id")
        created.filtered(lambda m: m.partner_id.id in moved_up)._send_template(
            "upgrade_template_id"
        )
        created.filtered(lambda m: m.partner_id.id not in moved_up | moved_down)._send_template(
            "welcome_template_id"
        )
        return len(grace_start) + len(back_active) + len(closing) + len(created)

    # ------------------------------------------------------------------ daily run

    @api.model
    def _cron_daily(self):
        """Start, end and renew memberships, then judge qualified clubs, one
        company per call (the cron runs again while companies are left), each
        committed on its own. A company whose run fails is logged and left
        alone until the next day; one whose rows another transaction holds is
        tried again later."""
        today = fields.Date.context_today(self)
        companies = (
            self.env["retention.club"].sudo().search([("company_id", "!=", False)]).company_id
        )
        todo = companies.filtered(
            lambda company: (
                (not company.retention_club_last_run or company.retention_club_last_run < today)
                and company.retention_club_failed_on != today
            )
        )
        for company in todo:
            try:
                with self.env.cr.savepoint():
                    self._daily_for_company(company, today)
                    company.sudo().retention_club_last_run = today
            except CONCURRENCY_ERRORS:
                _logger.info("Club memberships of %s are busy; tried again later", company.name)
                continue
            except Exception:  # pylint: disable=broad-except
                # One broken company must not hold the others back every night.
                _logger.exception("Club memberships of %s could not be updated", company.name)
                company.sudo().retention_club_failed_on = today
            self.env["ir.cron"]._notify_progress(done=1, remaining=len(todo) - 1)
            if not getattr(threading.current_thread(), "testing", False):
                self.env.cr.commit()  # pylint: disable=invalid-commit
            return
        if todo:  # all busy: look again in a while
            self.env.ref("retention_loyalty.ir_cron_retention_clubs")._trigger(
                fields.Datetime.now() + timedelta(minutes=10)
            )
        self.env["ir.cron"]._notify_progress(done=0, remaining=0)

    @api.model
    def _daily_for_company(self, company, today):
        Membership = self.sudo().with_context(**QUIET)
        ended = Membership.search(
            [
                ("company_id", "=", company.id),
                ("state", "in", ACTIVE_STATES),
                ("date_end", "!=", False),
                ("date_end", "<", today),
            ]
        )
        ended.write({"state": "expired", "grace_until": False})
        renewed = {
            (m.partner_id.id, m.club_id.id)
            for m in Membership.search(
                [
                    ("partner_id", "in", ended.partner_id.ids),
                    ("state", "=", "pending"),
                    ("awaiting_payment", "=", False),
                    ("date_start", "<=", today),
                ]
            )
        }
        ended.filtered(lambda m: (m.partner_id.id, m.club_id.id) not in renewed)._send_template(
            "downgrade_template_id"
        )
        Membership.search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "pending"),
                ("date_start", "<=", today),
            ]
        )._activate_due(today)
        self._create_renewals(company, today)
        return self._evaluate_qualified(today, company_ids=company.ids)

    @api.model
    def _create_renewals(self, company, today):
        """A renewal quotation and a to-do for the salesperson, the club's
        renewal lead time before a paid membership ends."""
        candidates = self.sudo().search(
            [
                ("company_id", "=", company.id),
                ("club_id.policy", "=", "paid"),
                ("state", "in", ACTIVE_STATES),
                ("renewal_order_id", "=", False),
                ("date_end", "!=", False),
            ]
        )
        due = candidates.filtered(
            lambda m: m.date_end - relativedelta(days=m.club_id.renewal_days) <= today
        )
        successors = {
            (s.partner_id.id, s.club_id.id)
            for s in self.sudo().search(
                [("partner_id", "in", due.partner_id.ids), ("state", "=", "pending")]
            )
        }
        due = due.filtered(lambda m: (m.partner_id.id, m.club_id.id) not in successors)
        if not due:
            return
        orders = (
            self.env["sale.order"]
            .sudo()
            .create(
                [
                    {
                        "partner_id": membership.partner_id.id,
                        "company_id": membership.company_id.id,
                        "user_id": membership.partner_id.user_id.id
                        or membership.order_id.user_id.id,
                        "origin": membership.display_name,
                        "order_line": [
                            fields.Command.create(
                                {
                                    "product_id": membership.club_id.product_id.id,
                                    "product_uom_qty": 1,
                                }
                            )
                        ],
                    }
                    for membership in due
                ]
            )
        )
        for membership, order in zip(due, orders, strict=True):
            membership.renewal_order_id = order
            membership.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=membership.date_end,
                summary=self.env._("Renew %(club)s membership", club=membership.club_id.name),
                note=self.env._(
                    "The membership ends on %(end)s. Renewal quotation: %(order)s.",
                    end=membership.date_end,
                    order=order.name,
                ),
                user_id=order.user_id.id or membership.create_uid.id or self.env.user.id,
            )
