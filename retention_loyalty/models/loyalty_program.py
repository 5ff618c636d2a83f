import logging
from datetime import timedelta

from psycopg2 import errors

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..engine.bonus import period_key
from ..engine.points import expiry_date

_logger = logging.getLogger(__name__)


class LoyaltyProgram(models.Model):
    """Ledger rules of a loyalty program: expiry, reminders, what a refund
    does to points already spent, and what a point is worth when spent."""

    _inherit = "loyalty.program"

    retention_expiry_policy = fields.Selection(
        [
            ("never", "Never"),
            ("earned", "Months after they are earned"),
            ("inactivity", "Months without a purchase"),
        ],
        string="Points Expire",
        default="never",
        required=True,
    )
    retention_expiry_months = fields.Integer(string="Expiry (months)", default=12)
    retention_reminder_days = fields.Integer(
        string="Reminder (days before)",
        default=30,
        help="Customers get an email this many days before points expire; 0 sends none.",
    )
    retention_reminder_template_id = fields.Many2one(
        "mail.template",
        string="Reminder Email",
        domain=[("model", "=", "loyalty.card")],
        default=lambda self: self.env.ref(
            "retention_loyalty.mail_template_points_expiry_reminder", raise_if_not_found=False
        ),
    )
    retention_negative_policy = fields.Selection(
        [
            ("allow_negative", "Allow a negative balance, repaid by future points"),
            ("block", "Block the refund"),
        ],
        string="Refund of Spent Points",
        default="allow_negative",
        required=True,
        help="What happens when a refund or cancellation takes back points the customer "
        "has already spent.",
    )
    retention_redeem_reward_id = fields.Many2one(
        "loyalty.reward",
        string="Points as Payment",
        domain="[('program_id', '=', id), ('reward_type', '=', 'discount'), "
        "('discount_mode', '=', 'per_point')]",
        help="The 'per point' discount reward used when the salesperson spends a chosen "
        "number of points on a quotation; its amount per point also values the points "
        "liability.",
    )
    retention_club_ids = fields.Many2many(
        "retention.club",
        "loyalty_program_retention_club_rel",
        "program_id",
        "club_id",
        string="Members of",
        help="Only current members of these clubs can use the program; empty for everyone.",
    )
    retention_point_value = fields.Float(
        compute="_compute_retention_point_value", string="Value of a Point"
    )
    # Bonus points for more than purchases (the bridges add newsletter, event
    # and survey): what each is worth, 0 for none, and how often a customer
    # can get each. Handing out value is for retention administrators.
    retention_bonus_period = fields.Selection(
        [
            ("year", "Once per calendar year"),
            ("month", "Once per calendar month"),
            ("once", "Only once"),
        ],
        string="Each Bonus",
        default="year",
        required=True,
        groups="retention_loyalty.group_retention_manager",
        help="How often a customer can get each kind of bonus on this program. A birthday "
        "belongs to the period it is celebrated in; the other bonuses to the day they are "
        "earned.",
    )
    retention_bonus_profile_points = fields.Float(
        string="Completed Profile",
        groups="retention_loyalty.group_retention_manager",
        help="Points for a complete customer profile: birthday, at least one interest, and "
        "an answer (yes or no) to the marketing consent question. Checked when the contact "
        "is saved and every night. 0 gives none.",
    )
    retention_bonus_birthday_points = fields.Float(
        string="Birthday",
        groups="retention_loyalty.group_retention_manager",
        help="Points on the customer's birthday (a contact's birthday, given daily by a "
        "scheduled action that catches up a week at most). 0 gives none.",
    )

    @api.depends("retention_redeem_reward_id.discount")
    def _compute_retention_point_value(self):
        for program in self:
            program.retention_point_value = program.retention_redeem_reward_id.discount

    @api.constrains("retention_expiry_policy", "retention_expiry_months", "retention_reminder_days")
    def _check_retention_expiry(self):
        for program in self:
            if program.retention_expiry_policy != "never" and program.retention_expiry_months <= 0:
                raise ValidationError(
                    self.env._(
                        "Program %(program)s: points must expire after at least one month.",
                        program=program.name,
                    )
                )
            if program.retention_reminder_days < 0:
                raise ValidationError(
                    self.env._(
                        "Program %(program)s: the reminder cannot come after the expiry.",
                        program=program.name,
                    )
                )

    @api.constrains(lambda self: self._retention_bonus_fields())
    def _check_retention_bonus(self):
        for program in self.sudo():
            if any(program[field] < 0 for field in self._retention_bonus_fields()):
                raise ValidationError(
                    self.env._(
                        "Program %(program)s: bonus points cannot be negative.",
                        program=program.name,
                    )
                )

    @api.constrains("retention_redeem_reward_id")
    def _check_retention_redeem_reward(self):
        for program in self:
            reward = program.retention_redeem_reward_id
            if reward and (reward.program_id != program or reward.discount_mode != "per_point"):
                raise ValidationError(
                    self.env._(
                        "Program %(program)s: points are spent as payment through one of its "
                        "own 'per point' discount rewards.",
                        program=program.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("retention_club_ids") for vals in vals_list):
            self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        if "retention_club_ids" in vals:
            self.env.registry.clear_cache()
        res = super().write(vals)
        if {"retention_expiry_policy", "retention_expiry_months"} & set(vals):
            self._retention_reset_expiry()
        return res

    def _retention_reset_expiry(self):
        """Apply a changed expiry rule to the unspent points already earned:
        from each lot's date, or from the card's last purchase under the
        inactivity policy. Customers get notice first: no lot expires sooner
        than the program's reminder lead time (at least a day) from today, so
        the reminder goes out before points the new rule puts in the past
        expire. A reminder is due again for the new dates."""
        self.env.flush_all()
        today = fields.Date.context_today(self)
        for program in self._retention_uses_ledger():
            months = program.retention_expiry_months
            if program.retention_expiry_policy == "never":
                expiry = SQL("NULL::date")
            else:
                if program.retention_expiry_policy == "earned":
                    start = SQL("e.date")
                else:
                    start = SQL(
                        """COALESCE((SELECT max(last.date) FROM retention_points_entry last
                                      WHERE last.card_id = e.card_id AND last.kind = 'earn'),
                                    e.date)"""
                    )
                expiry = SQL(
                    "GREATEST((%s + make_interval(months => %s))::date, %s::date)",
                    start,
                    months,
                    today + timedelta(days=max(program.retention_reminder_days, 1)),
                )
            self.env.cr.execute(
                SQL(
                    """UPDATE retention_points_entry e
                          SET expiry_date = %s, reminder_sent = FALSE
                        WHERE e.program_id = %s AND e.remaining > 0""",
                    expiry,
                    program.id,
                )
            )
        self.env["retention.points.entry"].invalidate_model(["expiry_date", "reminder_sent"])

    def _retention_uses_ledger(self):
        """Programs whose cards keep a points ledger: loyalty programs."""
        return self.filtered(lambda program: program.program_type == "loyalty")

    def _retention_expiry_from(self, day):
        """Expiry date of points earned (or, under the inactivity policy, of all
        unspent points after a purchase) on ``day``; False when they never expire."""
        self.ensure_one()
        if self.retention_expiry_policy == "never":
            return False
        return expiry_date(day, self.retention_expiry_months) or False

    # ------------------------------------------------------------------ referrals

    retention_referrer_points = fields.Float(
        string="Referral: Points for the Referrer",
        digits=(16, 2),
        help="Points the customer who referred a new customer gets when the new customer's "
        "first order is confirmed and paid.",
    )
    retention_referred_points = fields.Float(
        string="Referral: Points for the New Customer",
        digits=(16, 2),
        help="Points a referred new customer gets when their first order is confirmed and paid.",
    )
    retention_referral_voucher = fields.Selection(
        [("referrer", "The referrer"), ("referred", "The new customer"), ("both", "Both")],
        string="Referral Voucher For",
        help="Who gets a voucher of this program when a referred customer's first order is "
        "confirmed and paid.",
    )

    @api.constrains("retention_referrer_points", "retention_referred_points")
    def _check_retention_referral_points(self):
        for program in self:
            if program.retention_referrer_points < 0 or program.retention_referred_points < 0:
                raise ValidationError(
                    self.env._(
                        "Program %(program)s: referral points cannot be negative.",
                        program=program.name,
                    )
                )

    def _retention_card_of(self, partner):
        """The partner's card of this program, created when missing."""
        self.ensure_one()
        Card = self.env["loyalty.card"].sudo()
        return Card.search(
            [("program_id", "=", self.id), ("partner_id", "=", partner.id)], limit=1
        ) or Card.create({"program_id": self.id, "partner_id": partner.id})

    def _retention_cheapest_reward(self):
        return self.reward_ids.sorted(lambda reward: (reward.required_points, reward.id))[:1]

    def _retention_issue_voucher(self, partner):
        """A new voucher of this program for ``partner``, worth its cheapest reward."""
        self.ensure_one()
        return (
            self.env["loyalty.card"]
            .sudo()
            .create(
                {
                    "program_id": self.id,
                    "partner_id": partner.id,
                    "points": max(self._retention_cheapest_reward().required_points, 1.0),
                }
            )
        )

    def _retention_voucher_value(self):
        """Face value of a voucher, in the program's currency: its cheapest
        reward as a fixed discount, or its free product at cost (a
        percentage is worth nothing until an order is known)."""
        self.ensure_one()
        reward = self._retention_cheapest_reward()
        if reward.reward_type == "product":
            return reward.reward_product_qty * reward.reward_product_id.standard_price
        return {
            "per_order": reward.discount,
            "per_point": reward.discount * reward.required_points,
        }.get(reward.discount_mode, 0.0)

    # ------------------------------------------------------------------ bonus points

    @api.model
    def _retention_bonus_fields(self):
        """The points field of each bonus source, by source."""
        selection = self.env["retention.points.entry"]._fields["bonus_source"].selection
        return [f"retention_bonus_{source}_points" for source, _label in selection]

    @api.model
    def _retention_grant_bonus(self, source, grants):
        """Give the bonus of ``source`` to customers, on every active loyalty
        program that pays for it and is open to them, once per period.

        ``grants`` are ``(partner, day)`` pairs: the day the bonus was earned
        (a birthday the day it is celebrated), which decides its period.
        Called by the server's own flows only (a private method: no RPC);
        returns the ledger entries posted.

        A bonus already given for the period is skipped; two workers giving
        the same one at once are stopped by the database (a unique index):
        the lock on the card fails the second at once and its request is
        retried, or the second's entry is refused and dropped."""
        Entry = self.env["retention.points.entry"].sudo()
        points_field = f"retention_bonus_{source}_points"
        grants = [(partner, day) for partner, day in grants if partner]
        if not grants or points_field not in self._fields:
            return Entry
        programs = (
            self.sudo()
            .search([("program_type", "=", "loyalty"), (points_field, ">", 0)])
            ._retention_uses_ledger()
        )
        label = dict(Entry._fields["bonus_source"]._description_selection(self.env))[source]
        clubs = {}
        if programs.retention_club_ids:
            partners = self.env["res.partner"].concat(*(partner for partner, _day in grants))
            clubs = partners.commercial_partner_id._retention_current_clubs()
        entries = Entry
        for program in programs:
            wanted = {}
            for partner, day in grants:
                company = partner.company_id
                if program.company_id and company and company != program.company_id:
                    continue
                # A members-only program pays its members only.
                if program.retention_club_ids and not (
                    program.retention_club_ids & clubs[partner.commercial_partner_id.id]
                ):
                    continue
                wanted.setdefault(partner, period_key(day, program.retention_bonus_period))
            if not wanted:
                continue
            given = {
                (partner.id, period)
                for partner, period in Entry._read_group(
                    [
                        ("program_id", "=", program.id),
                        ("kind", "=", "bonus"),
                        ("bonus_source", "=", source),
                        ("partner_id", "in", [partner.id for partner in wanted]),
                        ("bonus_period", "in", list(set(wanted.values()))),
                    ],
                    ["partner_id", "bonus_period"],
                )
            }
            todo = {
                partner: period
                for partner, period in wanted.items()
                if (partner.id, period) not in given
            }
            if not todo:
                continue
            try:
                with self.env.cr.savepoint():
                    entries |= program._retention_post_bonus(source, label, todo)
            except errors.UniqueViolation:
                # Another worker gave some of them meanwhile: give the others.
                for partner, period in todo.items():
                    try:
                        with self.env.cr.savepoint():
                            entries |= program._retention_post_bonus(
                                source, label, {partner: period}
                            )
                    except errors.UniqueViolation:
                        _logger.info(
                            "Bonus %s of %s for %s already given", source, period, partner.id
                        )
        return entries

    def _retention_post_bonus(self, source, label, periods_by_partner):
        """Post the program's ``source`` bonus to each partner's card (made
        when missing) for the given periods."""
        self.ensure_one()
        program = self.sudo()
        Card = self.env["loyalty.card"].sudo()
        partners = self.env["res.partner"].concat(*periods_by_partner)
        cards = {
            card.partner_id: card
            for card in Card.search(
                [("program_id", "=", program.id), ("partner_id", "in", partners.ids)],
                order="id",
            )[::-1]
        }
        missing = partners.filtered(lambda partner: partner not in cards)
        for card in Card.create(
            [{"program_id": program.id, "partner_id": partner.id} for partner in missing]
        ):
            cards[card.partner_id] = card
        points = program[f"retention_bonus_{source}_points"]
        changes = [
            {
                "card": cards[partner],
                "kind": "bonus",
                "points": points,
                "bonus_source": source,
                "bonus_period": period,
                "description": label,
            }
            for partner, period in periods_by_partner.items()
        ]
        entries = Card._retention_post(changes, write_history=True)
        # The unique index speaks at the insert of the ledger's stored fields.
        self.env.flush_all()
        return entries
