from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.http import request
from odoo.osv import expression

from ..engine.points import category_share, multiply_points, reversal_target, round_points
from ..engine.referrals import clean_code
from .loyalty_card import points_origin
from .retention_customer_stat import RISK_LEVEL_SELECTION

# Where the referral link keeps the code of the visitor's referrer.
REFERRAL_SESSION_KEY = "retention_referral_code"
REFERRAL_COOKIE = "retention_referral"


def is_customer_request():
    """Whether the current HTTP request comes from a customer or a visitor
    (the portal often works as the superuser: ask the request, not the env)."""
    return bool(request) and request.env.user.share


def session_referral_code(env):
    """The referral code the current visitor (a customer or the public user)
    came with, if it still is one."""
    if not is_customer_request():
        return None
    code = clean_code(
        request.session.get(REFERRAL_SESSION_KEY)
        or request.httprequest.cookies.get(REFERRAL_COOKIE)
    )
    return code if code and env["retention.referral"]._retention_referrer_of(code) else None


class SaleOrder(models.Model):
    _inherit = "sale.order"

    retention_value_tier_id = fields.Many2one(
        "retention.value.tier", compute="_compute_retention_segment", string="Value Tier"
    )
    retention_risk_level = fields.Selection(
        RISK_LEVEL_SELECTION, compute="_compute_retention_segment", string="Churn Risk"
    )

    @api.depends("partner_id.commercial_partner_id", "company_id")
    def _compute_retention_segment(self):
        """The customer's tier and risk in the order's company, read in one
        search for all orders."""
        stats = self.env["retention.customer.stat"].search(
            [
                ("partner_id", "in", self.partner_id.commercial_partner_id.ids),
                ("company_id", "in", self.company_id.ids),
            ]
        )
        by_key = {(stat.partner_id.id, stat.company_id.id): stat for stat in stats}
        empty = self.env["retention.customer.stat"]
        for order in self:
            stat = by_key.get(
                (order.partner_id.commercial_partner_id.id, order.company_id.id), empty
            )
            order.retention_value_tier_id = stat.value_tier_id
            order.retention_risk_level = stat.risk_level

    retention_club_ids = fields.Many2many(
        "retention.club",
        compute="_compute_retention_club_ids",
        string="Customer's Clubs",
        help="Clubs and levels the customer currently belongs to in the order's company.",
    )

    @api.depends("partner_id.commercial_partner_id", "company_id")
    def _compute_retention_club_ids(self):
        clubs = self.partner_id.commercial_partner_id._retention_current_clubs()
        for order in self:
            order.retention_club_ids = clubs[order.partner_id.commercial_partner_id.id].filtered(
                lambda club, order=order: club.company_id == order.company_id
            )

    @api.depends("partner_id", "company_id")
    def _compute_pricelist_id(self):
        """Members' new quotations get the pricelist of their highest club."""
        super()._compute_pricelist_id()
        club_companies = self.env["retention.club"]._retention_setup()["club_company_ids"]
        drafts = self.filtered(
            lambda order: (
                order.state == "draft"
                and order.partner_id
                and order.company_id.id in club_companies
            )
        )
        if not drafts:
            return
        clubs = drafts.partner_id.commercial_partner_id._retention_current_clubs()
        for order in drafts:
            priced = clubs[order.partner_id.commercial_partner_id.id].filtered(
                lambda club, order=order: club.pricelist_id and club.company_id == order.company_id
            )
            if priced:
                order.pricelist_id = priced.sorted(lambda club: (club.sequence, club.id))[
                    -1
                ].pricelist_id

    def _get_program_domain(self):
        domain = super()._get_program_domain()
        extra = self._retention_club_program_domain()
        return expression.AND([domain, extra]) if extra else domain

    def _get_trigger_domain(self):
        domain = super()._get_trigger_domain()
        extra = self._retention_club_program_domain("program_id.")
        return expression.AND([domain, extra]) if extra else domain

    def _retention_club_program_domain(self, prefix=""):
        """Member-only programs apply only to members of one of their clubs."""
        self.ensure_one()
        member_only = self.env["retention.club"]._retention_setup()["member_only"]
        if not member_only:
            return []
        partner = self.partner_id.commercial_partner_id
        member_of = set(partner._retention_current_clubs()[partner.id].ids)
        closed = [program for program, clubs in member_only.items() if not clubs & member_of]
        return [(f"{prefix}id", "not in", closed)] if closed else []

    # ------------------------------------------------------------------ subscriptions

    retention_subscription_id = fields.Many2one(
        "retention.subscription",
        string="Subscription",
        index="btree_not_null",
        readonly=True,
        copy=False,
        help="The subscription that generated this order.",
    )
    retention_subscription_period = fields.Integer(
        string="Subscription Period", readonly=True, copy=False
    )
    retention_subscription_count = fields.Integer(compute="_compute_retention_subscription_count")

    _sql_constraints = [
        (
            "retention_subscription_period_unique",
            "UNIQUE(retention_subscription_id, retention_subscription_period)",
            "A subscription orders each period once.",
        )
    ]

    def _compute_retention_subscription_count(self):
        counts = dict(
            self.env["retention.subscription"]._read_group(
                [("origin_order_id", "in", self.ids)], ["origin_order_id"], ["__count"]
            )
        )
        for order in self:
            order.retention_subscription_count = counts.get(order, 0)

    def _prepare_confirmation_values(self):
        """Subscription orders keep the date of their period, not the day the
        order was made (a catch-up after downtime stays dated right)."""
        values = super()._prepare_confirmation_values()
        if self and all(order.retention_subscription_id for order in self):
            values.pop("date_order", None)
        return values

    def _retention_billing_subscription(self):
        """The subscription whose invoice policy bills this order: the one of
        its period, or the one whose prorated change it charges."""
        self.ensure_one()
        return self.retention_subscription_id or self.retention_subscription_change_id

    def _retention_confirm_subscription_orders(self):
        to_confirm = self.filtered(
            lambda order: order.retention_subscription_id.auto_confirm and order.state == "draft"
        )
        if to_confirm:
            to_confirm.action_confirm()

    def action_retention_make_subscription(self):
        self.ensure_one()
        if self.retention_subscription_id:
            raise UserError(
                self.env._(
                    "%(order)s was generated by subscription %(subscription)s; it cannot start "
                    "another one.",
                    order=self.name,
                    subscription=self.retention_subscription_id.name,
                )
            )
        if self.state != "sale":
            raise UserError(self.env._("Only confirmed orders can become subscriptions."))
        return {
            "name": self.env._("Make it a Subscription"),
            "type": "ir.actions.act_window",
            "res_model": "retention.subscription.make.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    def action_retention_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_subscription_action"
        )
        subscriptions = (
            self.env["retention.subscription"].search([("origin_order_id", "=", self.id)])
            | self.retention_subscription_id
        )
        action["domain"] = [("id", "in", subscriptions.ids)]
        return action

    # ------------------------------------------------------------------ loyalty points

    retention_points_breakdown = fields.Json(
        copy=False,
        readonly=True,
        help="How the points of the order's loyalty programs come about: base points, "
        "the customer's multiplier and bonus campaigns.",
    )
    retention_points_breakdown_text = fields.Text(
        compute="_compute_retention_points_breakdown_text", string="Points Breakdown"
    )
    retention_points_to_redeem = fields.Float(
        string="Points to Use",
        copy=False,
        readonly=True,
        help="Points the customer spends on this order as part payment.",
    )

    @api.depends("retention_points_breakdown")
    def _compute_retention_points_breakdown_text(self):
        for order in self:
            lines = []
            for program_name, parts in (order.retention_points_breakdown or {}).items():
                lines.append(
                    self.env._(
                        "%(program)s: %(base)s base points",
                        program=program_name,
                        base=parts["base"],
                    )
                )
                if parts["customer_bonus"]:
                    lines.append(
                        self.env._(
                            "  + %(bonus)s customer multiplier x%(multiplier)s",
                            bonus=parts["customer_bonus"],
                            multiplier=parts["customer_multiplier"],
                        )
                    )
                for name, bonus in parts["campaign_bonuses"]:
                    lines.append(
                        self.env._("  + %(bonus)s %(campaign)s", bonus=bonus, campaign=name)
                    )
                lines.append(self.env._("  = %(total)s points", total=parts["total"]))
            order.retention_points_breakdown_text = "\n".join(lines) or False

    def _program_check_compute_points(self, programs):
        """Multiply the points of loyalty programs by the customer's multiplier
        and the active bonus campaigns, and keep the breakdown on the order."""
        result = super()._program_check_compute_points(programs)
        ledger_programs = programs._retention_uses_ledger()
        if not ledger_programs:
            return result
        breakdowns = {}
        multiplier = self.partner_id.commercial_partner_id._retention_points_multiplier(
            self.company_id
        )
        for program in ledger_programs:
            status = result.get(program, {})
            if not status.get("points"):
                continue
            campaigns = self.env["retention.points.campaign"]._retention_applicable(self, program)
            breakdown = multiply_points(status["points"][0], multiplier, campaigns)
            status["points"][0] = breakdown.total
            breakdowns[program.name] = {
                "base": breakdown.base,
                "customer_multiplier": breakdown.customer_multiplier,
                "customer_bonus": breakdown.customer_bonus,
                "campaign_bonuses": list(breakdown.campaign_bonuses),
                "total": breakdown.total,
            }
        # One program may be checked alone (a code applied): keep the others.
        merged = {**(self.retention_points_breakdown or {}), **breakdowns}
        if self.id and breakdowns and self.retention_points_breakdown != merged:
            self.sudo().retention_points_breakdown = merged
        return result

    def _retention_points_datetime(self):
        """When the order earns its points: its confirmation, or now if it
        were confirmed now."""
        self.ensure_one()
        if self.state == "sale":
            return self.date_order
        return self._prepare_confirmation_values().get("date_order", self.date_order)

    def _retention_campaign_share(self, categories):
        """Share of the order's amount (before rewards, taxes included as the
        points rules count it) on products of ``categories``."""
        lines = self.order_line.filtered(lambda line: not line.reward_id and not line.display_type)
        return category_share(
            [(line.product_id.categ_id.parent_path, line.price_total) for line in lines],
            categories.mapped("parent_path"),
        )

    def action_confirm(self):
        to_confirm = self.filtered(lambda order: order.state != "sale")
        code = session_referral_code(self.env)
        if code:
            # A quotation the customer accepts online after following a link.
            to_confirm.filtered(lambda order: not order.retention_referral_code).write(
                {"retention_referral_code": code}
            )
        with points_origin("confirm", to_confirm):
            res = super().action_confirm()
        confirmed = to_confirm.filtered(lambda order: order.state == "sale")
        renewals = confirmed.filtered("retention_subscription_renewal")
        if renewals:
            renewals.retention_subscription_id.sudo()._renew_term(renewals)
        self.env["retention.referral"]._retention_on_orders_confirmed(confirmed)
        setup = self.env["retention.club"]._retention_setup()
        Membership = self.env["retention.club.membership"]
        if setup["paid_product_ids"] & set(confirmed.order_line.product_id.ids):
            Membership._start_purchased(confirmed)
        if confirmed:
            # Before the playbooks run: a reward used costs what it cost now.
            self.env["retention.incentive.cost"]._record_order_rewards(confirmed)
            self.env["retention.playbook"]._run_for_orders(confirmed)
        qualified_companies = setup["qualified_company_ids"] & set(confirmed.company_id.ids)
        if qualified_companies:
            # Customers who now qualify move up at once; moving down waits
            # for the daily run and its grace period.
            Membership._evaluate_qualified(
                partner_ids=confirmed.partner_id.commercial_partner_id.ids,
                allow_downgrade=False,
                company_ids=list(qualified_companies),
            )
        if confirmed.retention_subscription_id or confirmed.retention_subscription_change_id:
            # Billed in advance, as the subscription's invoice policy says.
            self.env["retention.subscription"]._invoice_period_orders(confirmed)
        return res

    retention_subscription_change_id = fields.Many2one(
        "retention.subscription",
        string="Change of Subscription",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="This order charges or credits a change of the subscription for the rest of its "
        "current period (prorated).",
    )
    retention_subscription_renewal = fields.Boolean(
        string="Subscription Renewal",
        copy=False,
        readonly=True,
        help="Signing and confirming this quotation renews its subscription for another term; "
        "it is the new term's first order.",
    )

    retention_cancelled_on = fields.Date(
        string="Cancelled On",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Day the order or quotation was cancelled: a service signal for playbooks.",
    )

    def _action_cancel(self):
        confirmed = self.filtered(lambda order: order.state == "sale")
        with points_origin("cancel", confirmed):
            res = super()._action_cancel()
        self.write(
            {
                "retention_points_to_redeem": 0.0,
                "retention_cancelled_on": fields.Date.context_today(self),
            }
        )
        if confirmed and self.env["retention.club"]._retention_setup()["paid_product_ids"]:
            self.env["retention.club.membership"]._end_purchased(confirmed)
        if confirmed:
            self._retention_cancel_referrals(confirmed)
            self.env["retention.incentive.cost"]._remove_order_costs(confirmed)
        return res

    def _add_points_for_coupon(self, coupon_points):
        """On a confirmed order, the points of a program applied to it are
        earned on it (Odoo adds them to the card at once)."""
        with points_origin("coupon", self):
            return super()._add_points_for_coupon(coupon_points)

    def _apply_program_reward(self, reward, coupon, **kwargs):
        # On a confirmed order Odoo's reward flow spends the points at once.
        with points_origin("reward", self):
            return super()._apply_program_reward(reward, coupon, **kwargs)

    def _update_programs_and_rewards(self):
        with points_origin("reward", self):
            return super()._update_programs_and_rewards()

    def _retention_confirm_changes(self, card):
        """Ledger changes of confirming these orders for ``card``: points earned
        and points spent on rewards, one entry each per order. Points earned
        come first, as Odoo nets them per order: a reward may be paid with
        the points its own order earns."""
        changes = []
        for order in self:
            earned = sum(
                order.coupon_point_ids.filtered(lambda cp: cp.coupon_id == card).mapped("points")
            )
            spent = sum(
                order.order_line.filtered(
                    lambda line: line.coupon_id == card and line.reward_id
                ).mapped("points_cost")
            )
            if earned:
                changes.append(
                    {
                        "card": card,
                        "kind": "earn",
                        "points": earned,
                        "order_id": order.id,
                        "description": self.env._("Earned on %(order)s", order=order.name),
                    }
                )
            if spent:
                changes.append(
                    {
                        "card": card,
                        "kind": "spend",
                        "points": -spent,
                        "order_id": order.id,
                        "description": self.env._("Spent on %(order)s", order=order.name),
                    }
                )
        return changes

    def _retention_cancel_changes(self, card):
        """Ledger changes of cancelling these orders for ``card``: spent points
        come back and the points the order still holds (after refunds and
        expiry) go. An order without entries (confirmed before the ledger was
        opened order by order) is reversed as Odoo reverses it."""
        entries_by_order = defaultdict(list)
        for entry in (
            self.env["retention.points.entry"]
            .sudo()
            .search([("card_id", "=", card.id), ("order_id", "in", self.ids)], order="id")
        ):
            entries_by_order[entry.order_id.id].append(entry)
        refunded = self._retention_refunded_amounts()
        changes = []
        for order in self:
            own = entries_by_order[order.id]
            description = self.env._("%(order)s cancelled", order=order.name)
            if not own:
                odoo_change = -order._get_point_changes().get(card, 0.0)
                moves = [odoo_change] if round_points(odoo_change) else []
            else:
                held = sum(entry.points for entry in own)
                spent = -sum(entry.points for entry in own if entry.kind == "spend")
                restored = sum(
                    entry.points for entry in own if entry.kind == "cancel" and entry.points > 0
                )
                # Spent points a credit note already gave back.
                returned = sum(entry.points for entry in own if entry.kind == "refund_spent")
                unrestored_spent = round_points(spent - restored - returned)
                # Expired points are already gone from ``held``.
                earned_held = round_points(held + unrestored_spent)
                moves = [points for points in (unrestored_spent, -earned_held) if points]
                order._retention_note_expired(card, own, description)
            # Without points to move, a zero entry still marks where the
            # order's next confirmation starts.
            changes += [
                {
                    "card": card,
                    "kind": "cancel",
                    "points": points,
                    "order_id": order.id,
                    "restores": points > 0,
                    "refund_basis": refunded.get(order.id, 0.0),
                    "marker": True,
                    "description": description,
                }
                for points in moves or ([0.0] if own else [])
            ]
        return changes

    def _retention_note_expired(self, card, entries, what):
        """Tell in the card's chatter that points of this order which expired
        since its last cancellation are not taken back (again) by ``what``."""
        expired = 0.0
        for entry in entries:
            if entry.kind == "cancel":
                expired = 0.0
            elif entry.kind == "expire":
                expired -= entry.points
        expired = round_points(expired)
        if expired:
            card.sudo().message_post(
                body=self.env._(
                    "%(what)s: %(points)s of the points %(order)s earned had already expired; "
                    "they are not taken back again.",
                    what=what,
                    points=format(expired, "g"),
                    order=self.name,
                )
            )
        return expired

    def _retention_refunded_amounts(self):
        """Amount refunded per order id (in the order's currency): the product
        lines of its posted credit notes."""
        refund_lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("sale_line_ids.order_id", "in", self.ids),
                    ("move_id.move_type", "=", "out_refund"),
                    ("move_id.state", "=", "posted"),
                    ("display_type", "=", "product"),
                ]
            )
        )
        refunded = defaultdict(float)
        for line in refund_lines:
            order = line.sale_line_ids.order_id[:1]
            refunded[order.id] += line.move_id.currency_id._convert(
                line.price_subtotal, order.currency_id, order.company_id, line.move_id.date
            )
        return refunded

    def _retention_sync_refunds(self, move=None):
        """Take back (or give back, when a credit note is undone) the points
        these orders earned, in proportion to what was refunded, but never
        points of the order that expired; and give back the points the orders
        spent in the same proportion (the customer paid part with them).
        Idempotent: it moves each order to its targets, whatever ran before."""
        orders = self.filtered(lambda order: order.state == "sale")
        if not orders:
            return
        cycles = defaultdict(list)
        basis = defaultdict(float)
        for entry in (
            self.env["retention.points.entry"]
            .sudo()
            .search(
                [("order_id", "in", orders.ids), ("program_id.program_type", "=", "loyalty")],
                order="id",
            )
        ):
            key = (entry.order_id, entry.card_id)
            if entry.kind == "cancel":
                # Only the entries and refunds of the current confirmation count.
                cycles[key] = []
                basis[key] = entry.refund_basis
            else:
                cycles[key].append(entry)
        if not cycles:
            return
        refunded = orders._retention_refunded_amounts()
        changes = []
        for (order, card), cycle in cycles.items():
            earned = sum(entry.points for entry in cycle if entry.kind == "earn")
            taken = -sum(entry.points for entry in cycle if entry.kind == "refund")
            spent = -sum(entry.points for entry in cycle if entry.kind == "spend")
            returned = sum(entry.points for entry in cycle if entry.kind == "refund_spent")
            unexpired = max(
                earned + sum(entry.points for entry in cycle if entry.kind == "expire"), 0.0
            )
            refunded_now = max(refunded.get(order.id, 0.0) - basis[(order, card)], 0.0)
            target = reversal_target(earned, order.amount_untaxed, refunded_now)
            description = self.env._(
                "Refund of %(order)s (%(move)s)",
                order=order.name,
                move=move.name if move else "-",
            )
            if move and target > unexpired:
                order._retention_note_expired(card, cycle, description)
            # Spent points come back first: the earned points taken next may
            # have paid for them.
            spent_back = round_points(
                reversal_target(spent, order.amount_untaxed, refunded_now) - returned
            )
            if spent_back:
                changes.append(
                    {
                        "card": card,
                        "kind": "refund_spent",
                        "points": spent_back,
                        "restores": spent_back > 0,
                        "order_id": order.id,
                        "move_id": move.id if move else False,
                        "description": self.env._(
                            "%(refund)s: spent points back", refund=description
                        ),
                    }
                )
            delta = round_points(min(target, unexpired) - taken)
            if delta:
                changes.append(
                    {
                        "card": card,
                        "kind": "refund",
                        "points": -delta,
                        "restores": delta < 0,
                        "order_id": order.id,
                        "move_id": move.id if move else False,
                        "description": description,
                    }
                )
        entries = self.env["loyalty.card"]._retention_post(changes, write_history=True)
        for entry in entries:
            signed_points = f"{entry.points:+g}"
            entry.card_id.sudo().message_post(
                body=self.env._(
                    "%(what)s: %(points)s points", what=entry.description, points=signed_points
                )
            )

    def action_retention_use_points(self):
        self.ensure_one()
        if self.state not in ("draft", "sent"):
            raise UserError(self.env._("Points can only be used on a quotation."))
        return {
            "name": self.env._("Use Points"),
            "type": "ir.actions.act_window",
            "res_model": "retention.points.redeem.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    def _retention_product_restriction(self, program):
        """The products this order's cards of ``program`` are limited to
        (vouchers on suggested products); empty when no card is limited."""
        cards = (
            self.applied_coupon_ids | self.order_line.coupon_id | self.coupon_point_ids.coupon_id
        ).filtered(lambda card: card.program_id == program)
        return cards.retention_product_ids

    def _get_specific_discountable_lines(self, reward):
        lines = super()._get_specific_discountable_lines(reward)
        products = self._retention_product_restriction(reward.program_id)
        if products:
            lines = lines.filtered(lambda line: line.product_id in products)
        return lines

    def _get_claimable_rewards(self, forced_coupons=None):
        """A card limited to some products offers its discounts only when the
        order holds one of them (and only discounts that honour the limit:
        those on specific products)."""
        claimable = super()._get_claimable_rewards(forced_coupons=forced_coupons)
        for card in [card for card in claimable if card.retention_product_ids]:
            usable = claimable[card].filtered(
                lambda reward, card=card: (
                    reward.reward_type != "discount"
                    or (
                        reward.discount_applicability == "specific"
                        and self._get_specific_discountable_lines(reward).filtered(
                            lambda line, card=card: line.product_id in card.retention_product_ids
                        )
                    )
                )
            )
            if usable:
                claimable[card] = usable
            else:
                del claimable[card]
        return claimable

    def _get_reward_values_discount(self, reward, coupon, **kwargs):
        """Spend only the points chosen with "Use points" on the program's
        points-as-payment reward, not the whole balance."""
        values = super()._get_reward_values_discount(reward, coupon, **kwargs)
        program = reward.program_id
        if (
            reward != program.retention_redeem_reward_id
            or not self.retention_points_to_redeem
            or not values
        ):
            return values
        wanted = reward.currency_id._convert(
            self.retention_points_to_redeem * reward.discount,
            self.currency_id,
            self.company_id,
            fields.Date.today(),
        )
        discount = -sum(vals["price_unit"] for vals in values)
        if discount <= 0:
            return values
        factor = min(wanted / discount, 1.0)
        for vals in values:
            vals["price_unit"] *= factor
            if vals.get("points_cost"):
                vals["points_cost"] = round_points(
                    min(self.retention_points_to_redeem, vals["points_cost"])
                )
        return values

    # ------------------------------------------------------------------ referrals

    retention_referral_code = fields.Char(
        string="Referral Code",
        copy=False,
        help="Code of the customer who referred this new customer. The referral is recorded "
        "when the order is confirmed; both are rewarded when it is paid.",
    )
    retention_referral_id = fields.Many2one(
        "retention.referral", string="Referral", copy=False, readonly=True
    )

    @api.model_create_multi
    def create(self, vals_list):
        code = session_referral_code(self.env)
        for vals in vals_list:
            if code:
                vals.setdefault("retention_referral_code", code)
            if vals.get("retention_referral_code"):
                vals["retention_referral_code"] = self._retention_clean(vals)
        return super().create(vals_list)

    def write(self, vals):
        if "retention_referral_code" in vals:
            vals = {**vals, "retention_referral_code": self._retention_clean(vals)}
            if any(
                order.state not in ("draft", "sent")
                and order.retention_referral_code != vals["retention_referral_code"]
                for order in self
            ):
                raise UserError(self.env._("The referral code can only be set on a quotation."))
        return super().write(vals)

    def _retention_clean(self, vals):
        code = vals.get("retention_referral_code")
        return (clean_code(code) or code.strip()) if code else False

    @api.constrains("retention_referral_code")
    def _check_retention_referral_code(self):
        Referral = self.env["retention.referral"]
        for order in self.filtered("retention_referral_code"):
            if not Referral._retention_referrer_of(order.retention_referral_code):
                raise ValidationError(
                    self.env._(
                        "%(code)s is not a referral code.", code=order.retention_referral_code
                    )
                )

    @api.onchange("retention_referral_code", "partner_id")
    def _onchange_retention_referral_code(self):
        """Tell the salesperson at once what confirming would refuse."""
        if not self.retention_referral_code or not self.partner_id:
            return None
        Referral = self.env["retention.referral"]
        referrer = Referral._retention_referrer_of(self.retention_referral_code)
        if not referrer:
            reason = self.env._("This is not a referral code.")
        else:
            reason = Referral._retention_guard(
                referrer,
                self.partner_id.commercial_partner_id,
                self.company_id,
                self._origin if self._origin.id else None,
            )
        if not reason:
            return None
        return {"warning": {"title": self.env._("Referral code"), "message": reason}}

    def _retention_referral_source(self):
        self.ensure_one()
        return "online" if is_customer_request() else "salesperson"

    def _retention_is_paid(self):
        """Confirmed and paid: by online payments covering the total, or
        fully invoiced with every invoice paid. An order of nothing is never
        paid (no reward for an empty first order)."""
        self.ensure_one()
        if self.state != "sale" or self.currency_id.is_zero(self.amount_total):
            return False
        paid_online = sum(tx.amount for tx in self.transaction_ids if tx.state == "done")
        if self.currency_id.compare_amounts(paid_online, self.amount_total) >= 0:
            return True
        invoices = self.invoice_ids.filtered(
            lambda move: move.state == "posted" and move.move_type == "out_invoice"
        )
        return (
            bool(invoices)
            and self.invoice_status == "invoiced"
            and all(move.payment_state in ("paid", "in_payment") for move in invoices)
        )

    @api.model
    def _retention_cancel_referrals(self, confirmed):
        """Cancelling a first order takes its referral's rewards back."""
        referrals = (
            self.env["retention.referral"]
            .sudo()
            .search([("first_order_id", "in", confirmed.ids), ("state", "!=", "cancelled")])
        )
        for referral in referrals:
            referral._retention_take_back(
                "cancel",
                self.env._("First order %(order)s cancelled.", order=referral.first_order_id.name),
            )
