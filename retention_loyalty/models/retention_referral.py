from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine.points import round_points
from ..engine.referrals import clean_code, identity, shared_identity

REFERRAL_STATES = [
    ("pending", "Pending"),
    ("rewarded", "Rewarded"),
    ("cancelled", "Cancelled"),
]


class RetentionReferral(models.Model):
    """A customer who brought a new customer. It is recorded when the new
    customer signs up or confirms a first order with the referrer's code, and
    rewards both, once, when that first order is confirmed and paid. The
    guards that refuse a referral, and what took a reward back, are written
    in ``reason``."""

    _name = "retention.referral"
    _description = "Customer Referral"
    _order = "date desc, id desc"
    _rec_name = "referred_id"

    referrer_id = fields.Many2one(
        "res.partner", string="Referred By", required=True, index=True, ondelete="restrict"
    )
    referred_id = fields.Many2one(
        "res.partner", string="New Customer", required=True, index=True, ondelete="restrict"
    )
    code = fields.Char(required=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    source = fields.Selection(
        [
            ("signup", "Sign-up"),
            ("online", "Online Order"),
            ("salesperson", "Salesperson"),
        ],
        required=True,
    )
    state = fields.Selection(REFERRAL_STATES, required=True, default="pending", index=True)
    reason = fields.Char(help="Why the referral was refused or its rewards taken back.")
    refund_move_id = fields.Many2one(
        "account.move",
        string="Taken Back By",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The credit note that refunded the first order and took the rewards back.",
    )
    first_order_id = fields.Many2one("sale.order", index="btree_not_null", ondelete="set null")
    rewarded_on = fields.Date(readonly=True)
    entry_ids = fields.Many2many(
        "retention.points.entry",
        "retention_referral_points_entry_rel",
        "referral_id",
        "entry_id",
        string="Points Given",
        readonly=True,
    )
    voucher_ids = fields.Many2many(
        "loyalty.card",
        "retention_referral_voucher_rel",
        "referral_id",
        "card_id",
        string="Vouchers Given",
        readonly=True,
    )
    referrer_points = fields.Float(digits=(16, 2), readonly=True)
    referred_points = fields.Float(string="New Customer's Points", digits=(16, 2), readonly=True)
    reward_cost = fields.Monetary(
        readonly=True, help="Points given times the value of a point, plus the vouchers' value."
    )
    revenue_since = fields.Monetary(
        compute="_compute_revenue_since",
        help="The new customer's confirmed orders since the referral, untaxed, in the "
        "company's currency.",
    )
    referred_first_name = fields.Char(compute="_compute_referred_first_name")

    @api.model
    def _auto_init(self):
        res = super()._auto_init()
        # A new customer is referred once per company: the first referral
        # wins, even when two requests record one at the same time.
        self.env.cr.execute(
            SQL(
                """CREATE UNIQUE INDEX IF NOT EXISTS retention_referral_referred_unique
                       ON retention_referral (referred_id, company_id)
                    WHERE state != 'cancelled'"""
            )
        )
        return res

    def _compute_revenue_since(self):
        """One grouped read for all referrals: confirmed orders per customer,
        company and day, summed from each referral's day on."""
        groups = self.env["sale.order"]._read_group(
            [
                ("partner_id", "child_of", self.referred_id.ids),
                ("company_id", "in", self.company_id.ids),
                ("state", "=", "sale"),
                ("date_order", ">=", min(self.mapped("date"), default=fields.Date.today())),
            ],
            ["partner_id", "company_id", "date_order:day"],
            ["amount_untaxed:sum"],
        )
        revenue = defaultdict(list)
        for partner, company, day, amount in groups:
            revenue[(partner.commercial_partner_id.id, company.id)].append((day, amount))
        # Amounts in another currency than the company's are converted on
        # their own: rare enough not to slow the common case.
        foreign = self.env["sale.order"].search(
            [
                ("partner_id", "child_of", self.referred_id.ids),
                ("company_id", "in", self.company_id.ids),
                ("state", "=", "sale"),
                ("currency_id", "not in", self.company_id.currency_id.ids),
            ]
        )
        corrections = defaultdict(list)
        for order in foreign:
            rate = order.currency_rate or 1.0
            corrections[(order.partner_id.commercial_partner_id.id, order.company_id.id)].append(
                (order.date_order.date(), order.amount_untaxed / rate - order.amount_untaxed)
            )
        for referral in self:
            key = (referral.referred_id.id, referral.company_id.id)
            referral.revenue_since = sum(
                amount
                for day, amount in revenue[key] + corrections[key]
                if (day.date() if hasattr(day, "date") else day) >= referral.date
            )

    @api.depends("referred_id.name")
    def _compute_referred_first_name(self):
        for referral in self:
            referral.referred_first_name = (referral.referred_id.name or "").split(" ")[0]

    # ------------------------------------------------------------------ recording

    @api.model
    def _retention_referrer_of(self, code):
        """The customer whose referral code ``code`` is, if any."""
        code = clean_code(code)
        if not code:
            return self.env["res.partner"]
        return (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            .search([("retention_referral_code", "=", code)], limit=1)
        )

    @api.model
    def _retention_record(self, code, partner, company, source, order=None):
        """Record that ``partner`` came with referral ``code`` in ``company``:
        pending, or cancelled with the reason when a guard refuses it.
        Returns the referral (none for an unknown code)."""
        referrer = self._retention_referrer_of(code)
        partner = partner.commercial_partner_id
        if not referrer or not partner:
            return self.browse()
        # Two requests recording a referral for the same new customer wait
        # for each other here; the second one then sees the first.
        self.env.cr.execute(
            SQL("SELECT id FROM res_partner WHERE id = %s FOR NO KEY UPDATE", partner.id)
        )
        reason = self._retention_guard(referrer, partner, company, order)
        return self.sudo().create(
            {
                "referrer_id": referrer.id,
                "referred_id": partner.id,
                "code": referrer.retention_referral_code,
                "company_id": company.id,
                "source": source,
                "state": "cancelled" if reason else "pending",
                "reason": reason,
                "first_order_id": order.id if order else False,
            }
        )

    @api.model
    def _retention_guard(self, referrer, partner, company, order=None):
        """Why ``partner`` cannot be ``referrer``'s referral in ``company``,
        or False."""
        if referrer == partner:
            return self.env._("The code was used by its owner.")
        shared = self._retention_shared_identity(referrer, partner)
        if shared:
            what = {
                "email": self.env._("e-mail address"),
                "phone": self.env._("phone number"),
                "address": self.env._("address"),
            }[shared[0][0]]
            return self.env._("Self-referral: same %(what)s as the referrer.", what=what)
        earlier = self.sudo().search(
            [
                ("referred_id", "=", partner.id),
                ("company_id", "=", company.id),
                "|",
                ("state", "!=", "cancelled"),
                ("rewarded_on", "!=", False),
            ],
            order="id",
            limit=1,
        )
        if earlier:
            return self.env._(
                "Already referred by %(referrer)s on %(date)s: the first referral counts.",
                referrer=earlier.referrer_id.name,
                date=earlier.date,
            )
        return self._retention_not_new_reason(partner, company, order)

    @api.model
    def _retention_not_new_reason(self, partner, company, order=None):
        domain = [
            ("partner_id", "child_of", partner.id),
            ("company_id", "=", company.id),
            ("state", "=", "sale"),
        ]
        if order:
            domain.append(("id", "!=", order.id))
        before = self.env["sale.order"].sudo().search(domain, order="date_order", limit=1)
        if before:
            return self.env._(
                "Not a new customer: order %(order)s was confirmed before.", order=before.name
            )
        return False

    @api.model
    def _retention_shared_identity(self, referrer, partner):
        contacts = (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            .search([("id", "child_of", (referrer | partner).ids)])
        )
        fields_read = ["email", "phone", "mobile", "street", "zip"]

        def values(commercial):
            return [
                {
                    **{name: contact[name] for name in fields_read},
                    "country": contact.country_id.id,
                }
                for contact in contacts
                if contact.commercial_partner_id == commercial
            ]

        return shared_identity(identity(values(referrer)), identity(values(partner)))

    @api.model
    def _retention_on_orders_confirmed(self, orders):
        """Link referrals waiting since a sign-up to the customer's first
        order, record those of orders that came with a code, and reward the
        ones already paid (paid online before confirmation)."""
        # The customer's flag, read with the rest of the partner: confirming
        # an order costs no query and no cache for the referrals.
        todo = orders.filtered(
            lambda order: (
                order.retention_referral_code
                or order.partner_id.commercial_partner_id.retention_referral_waiting
            )
        )
        if not todo:
            return self.browse()
        Referral = self.sudo()
        waiting = Referral.search(
            [
                ("referred_id", "in", todo.partner_id.commercial_partner_id.ids),
                ("state", "=", "pending"),
                ("first_order_id", "=", False),
            ]
        )
        referrals = Referral.browse()
        for order in todo.sorted("id"):
            partner = order.partner_id.commercial_partner_id
            referral = waiting.filtered(
                lambda ref, order=order, partner=partner: (
                    ref.referred_id == partner and ref.company_id == order.company_id
                )
            )[:1]
            if referral:
                reason = self._retention_not_new_reason(partner, order.company_id, order)
                referral.write(
                    {
                        "first_order_id": order.id,
                        "state": "cancelled" if reason else "pending",
                        "reason": reason,
                    }
                )
                waiting -= referral
                referrals |= referral
                if order.retention_referral_code and clean_code(
                    order.retention_referral_code
                ) != clean_code(referral.code):
                    # Another code on the order: recorded, refused as second.
                    Referral._retention_record(
                        order.retention_referral_code,
                        partner,
                        order.company_id,
                        order._retention_referral_source(),
                        order,
                    )
            else:
                referral = Referral._retention_record(
                    order.retention_referral_code,
                    partner,
                    order.company_id,
                    order._retention_referral_source(),
                    order,
                )
                referrals |= referral
            order.sudo().retention_referral_id = referral
        referrals.filtered(lambda ref: ref.state == "pending")._retention_reward()
        return referrals

    # ------------------------------------------------------------------ rewards

    def _retention_lock(self):
        """Lock the referrals for this transaction and read their state
        afresh: a second payment, cron run or request waits, then finds them
        rewarded."""
        if self.ids:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM retention_referral WHERE id IN %s ORDER BY id FOR UPDATE",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset(["state", "first_order_id"])

    def _retention_reward(self):
        """Reward, once, the pending referrals whose first order is confirmed
        and paid: points on the loyalty cards of both customers (ledger,
        "bonus") and vouchers, per the settings of the company's programs."""
        self = self.sudo()
        self._retention_lock()
        ready = self.filtered(
            lambda ref: ref.state == "pending" and ref.first_order_id._retention_is_paid()
        )
        if not ready:
            return self.browse()
        Program = self.env["loyalty.program"]
        Card = self.env["loyalty.card"]
        today = fields.Date.context_today(self)
        programs = Program.search(
            [
                ("company_id", "in", [*ready.company_id.ids, False]),
                "|",
                "|",
                ("retention_referrer_points", ">", 0),
                ("retention_referred_points", ">", 0),
                ("retention_referral_voucher", "!=", False),
            ]
        )
        for referral in ready:
            company = referral.company_id
            own = programs.filtered(
                lambda program, company=company: program.company_id in (company, Program.browse())
            )
            if not own:
                # Nothing to give yet: it stays pending until a program says what.
                continue
            changes, vouchers, cost = [], Card.browse(), 0.0
            points = {"referrer": 0.0, "referred": 0.0}
            for program in own:
                for role, partner in (
                    ("referrer", referral.referrer_id),
                    ("referred", referral.referred_id),
                ):
                    name = (
                        referral.referred_id if role == "referrer" else referral.referrer_id
                    ).name
                    amount = program[f"retention_{role}_points"]
                    if program._retention_uses_ledger() and amount > 0:
                        changes.append(
                            {
                                "card": program._retention_card_of(partner),
                                "kind": "bonus",
                                "points": amount,
                                "description": self.env._("Referral: %(name)s", name=name),
                            }
                        )
                        points[role] += amount
                        cost += program.currency_id._convert(
                            amount * program.retention_point_value,
                            company.currency_id,
                            company,
                            today,
                        )
                    if program.retention_referral_voucher in (role, "both"):
                        vouchers |= program._retention_issue_voucher(partner)
                        cost += program.currency_id._convert(
                            program._retention_voucher_value(), company.currency_id, company, today
                        )
            entries = Card._retention_post(changes, write_history=True)
            referral.write(
                {
                    "state": "rewarded",
                    "rewarded_on": today,
                    "entry_ids": [fields.Command.set(entries.ids)],
                    "voucher_ids": [fields.Command.set(vouchers.ids)],
                    "referrer_points": points["referrer"],
                    "referred_points": points["referred"],
                    "reward_cost": company.currency_id.round(cost),
                    "reason": False,
                }
            )
        return ready.filtered(lambda ref: ref.state == "rewarded")

    def _retention_take_back(self, kind, reason, move=None):
        """Cancel the referrals with ``reason``, taking back through the
        ledger the points they gave (kind "cancel" or "refund") and the
        vouchers not used yet. Points the customer already spent follow the
        program's refund rule: a negative balance where it is allowed; where
        it is not, only what is left is taken, and the rest is noted."""
        self = self.sudo()
        self._retention_lock()
        referrals = self.filtered(lambda ref: ref.state != "cancelled")
        if not referrals:
            return
        balances = {}
        for referral in referrals:
            notes = [reason]
            changes = []
            for entry in referral.entry_ids.filtered(lambda entry: entry.points > 0):
                card = entry.card_id
                balance = balances.setdefault(card, card.points)
                take = entry.points
                if card.program_id.retention_negative_policy == "block":
                    take = round_points(min(take, max(balance, 0.0)))
                    if take < entry.points:
                        notes.append(
                            self.env._(
                                "%(points)s points already spent by %(customer)s were not "
                                "taken back.",
                                points=format(round_points(entry.points - take), "g"),
                                customer=card.partner_id.name,
                            )
                        )
                balances[card] = round_points(balance - take)
                changes.append(
                    {
                        "card": card,
                        "kind": kind,
                        "points": -take,
                        "move_id": move.id if move else False,
                        "description": self.env._(
                            "Referral taken back: %(name)s", name=referral.referred_id.name
                        ),
                    }
                )
            self.env["loyalty.card"]._retention_post(changes, write_history=True)
            used = referral.voucher_ids.filtered(lambda card: card.use_count or not card.points)
            (referral.voucher_ids - used).write({"points": 0.0, "active": False})
            if used:
                notes.append(
                    self.env._(
                        "Voucher(s) %(codes)s already used.", codes=", ".join(used.mapped("code"))
                    )
                )
            referral.write(
                {
                    "state": "cancelled",
                    "reason": " ".join(notes),
                    "refund_move_id": move.id if move else False,
                }
            )

    def _retention_refund_undone(self, refunds):
        """The credit notes ``refunds`` are reset to draft or cancelled: the
        referrals they took back wait again, and every waiting one is rewarded
        at once if its first order is paid (a draft credit note still counts
        as a refund being made, so that waits until it is cancelled)."""
        self = self.sudo()
        self._retention_lock()
        for referral in self.filtered(
            lambda ref: ref.state == "cancelled" and ref.refund_move_id in refunds
        ):
            referral.write(
                {
                    "state": "pending",
                    "reason": self.env._(
                        "Credit note %(move)s undone: the rewards are due again.",
                        move=referral.refund_move_id.name,
                    ),
                    "refund_move_id": False,
                }
            )
        return self.filtered(lambda ref: ref.state == "pending")._retention_reward()

    @api.model
    def _cron_reward_paid(self):
        """Catch up on first orders paid without the payment hook (e.g. an
        invoice reconciled by hand): reward what is due, once."""
        pending = self.sudo().search(
            [("state", "=", "pending"), ("first_order_id.state", "=", "sale")]
        )
        rewarded = pending._retention_reward()
        self.env["ir.cron"]._notify_progress(done=len(rewarded), remaining=0)
        return rewarded
