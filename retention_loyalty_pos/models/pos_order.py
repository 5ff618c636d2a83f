from collections import defaultdict

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.retention_loyalty.engine.points import (
    category_share,
    multiply_points,
    reversal_target,
    round_points,
)
from odoo.addons.retention_loyalty.models.loyalty_card import points_origin

from .retention_customer_stat import SOLD_STATES


class PosOrder(models.Model):
    """Points changed at the till are booked on the ledger with their PoS
    order, multiplied like a sales order's (customer multiplier, bonus
    campaigns); a paid order may lift its customer to a higher club level
    and triggers the order playbooks; a refund takes back the points the
    refunded order earned."""

    _inherit = "pos.order"

    retention_points_booked = fields.Boolean(
        string="Loyalty Points Booked",
        copy=False,
        readonly=True,
        help="The points this order earned and spent at the till are on the ledger.",
    )
    retention_playbooks_done = fields.Boolean(
        string="Order Playbooks Run",
        copy=False,
        readonly=True,
        help="The order playbooks have followed this paid order up (once per order).",
    )

    def confirm_coupon_programs(self, coupon_data):
        """The till books an order's points once, after it is paid."""
        self.ensure_one()
        if self.state not in SOLD_STATES:
            raise UserError(
                self.env._(
                    "The loyalty points of %(order)s are booked once it is paid.",
                    order=self.name,
                )
            )
        if self.retention_points_booked:
            # The till sends an order's points again when it syncs the order
            # again (a tip added later): nothing more to book.
            return {
                "coupon_updates": [],
                "program_updates": [],
                "new_coupon_info": [],
                "coupon_report": {},
            }
        with points_origin("pos", self):
            result = super().confirm_coupon_programs(coupon_data)
        self.retention_points_booked = True
        return result

    def add_loyalty_history_lines(self, coupon_data, coupon_updates):
        """Once per order, like its points; the points won are those the
        ledger booked (the till does not know the multipliers)."""
        recorded = self.env["loyalty.history"].search_count(
            [("order_model", "=", self._name), ("order_id", "in", self.ids)], limit=1
        )
        if recorded:
            return None
        new_ids = {str(update["old_id"]): update["id"] for update in coupon_updates}
        earned = defaultdict(float)
        for entry in (
            self.env["retention.points.entry"]
            .sudo()
            .search([("pos_order_id", "in", self.ids), ("kind", "=", "earn")])
        ):
            earned[entry.card_id.id] += entry.points
        for line in coupon_data:
            card_id = new_ids.get(str(line["card_id"]), line["card_id"])
            if int(card_id) in earned:
                line["won"] = round_points(earned[int(card_id)])
        return super().add_loyalty_history_lines(coupon_data, coupon_updates)

    def _retention_point_changes(self, cards, new_points):
        """Ledger changes of setting ``cards`` to ``new_points`` when the till
        confirms this order: points earned, then points spent on its reward
        lines (a reward may be paid with the points the order earns)."""
        self.ensure_one()
        is_refund = bool(self.lines.refunded_orderline_id)
        links = {"pos_order_id": self.id}
        changes = []
        for card in cards:
            delta = round_points(new_points - card.points)
            spent = round_points(
                sum(
                    self.lines.filtered(
                        lambda line, card=card: line.is_reward_line and line.coupon_id == card
                    ).mapped("points_cost")
                )
            )
            earned = round_points(delta + spent)
            if earned < 0 and is_refund:
                # Paying the refund already took back what the refunded order
                # earned (_retention_take_back_refunded_points): not twice.
                earned = 0.0
            if earned > 0:
                breakdown = self._retention_points_breakdown(card, earned)
                changes.append(
                    {
                        "card": card,
                        "kind": "earn",
                        "points": breakdown.total,
                        "links": links,
                        "description": self._retention_earned_description(breakdown),
                    }
                )
            elif earned:
                changes.append(
                    {
                        "card": card,
                        "kind": "refund",
                        "points": earned,
                        "links": links,
                        "description": self.env._(
                            "Taken back at the till on %(order)s", order=self.name
                        ),
                    }
                )
            if spent:
                changes.append(
                    {
                        "card": card,
                        "kind": "spend",
                        "points": -spent,
                        "links": links,
                        "description": self.env._(
                            "Spent at the till on %(order)s", order=self.name
                        ),
                    }
                )
        return changes

    def _retention_points_breakdown(self, card, base):
        """The points ``base`` points earned at the till make for ``card``:
        the engine's calculation of a sales order's, with the customer's
        multiplier and the bonus campaigns of the card's program."""
        customer = (self.partner_id or card.partner_id).commercial_partner_id
        multiplier = customer._retention_points_multiplier(self.company_id) if customer else 1.0
        campaigns = self.env["retention.points.campaign"]._retention_applicable(
            self, card.program_id
        )
        return multiply_points(base, multiplier, campaigns)

    def _retention_earned_description(self, breakdown):
        """The entry's description, with why it is more than the till's base
        points: 'Earned at the till on Shop/0001: 10 base + 10 customer
        multiplier x2 + 20 Double week'."""
        description = self.env._("Earned at the till on %(order)s", order=self.name)
        if breakdown.total == breakdown.base:
            return description
        # Formatted apart: the translation extractor evaluates the call's arguments.
        base = format(breakdown.base, "g")
        parts = [self.env._("%(points)s base", points=base)]
        if breakdown.customer_bonus:
            bonus = format(breakdown.customer_bonus, "g")
            multiplier = format(breakdown.customer_multiplier, "g")
            parts.append(
                self.env._(
                    "%(points)s customer multiplier x%(multiplier)s",
                    points=bonus,
                    multiplier=multiplier,
                )
            )
        parts += [f"{bonus:g} {name}" for name, bonus in breakdown.campaign_bonuses]
        return f"{description}: {' + '.join(parts)}"

    def _retention_points_datetime(self):
        """When the order earns its points (bonus campaigns): when it was paid."""
        self.ensure_one()
        return self.date_order

    def _retention_campaign_share(self, categories):
        """Share of the order's amount (before rewards, taxes included as the
        points rules count it) on products of ``categories``."""
        lines = self.lines.filtered(lambda line: not line.is_reward_line)
        return category_share(
            [(line.product_id.categ_id.parent_path, line.price_subtotal_incl) for line in lines],
            categories.mapped("parent_path"),
        )

    def _process_saved_order(self, draft):
        order_id = super()._process_saved_order(draft)
        if not draft and self.state in SOLD_STATES:
            self._retention_take_back_refunded_points()
            self._retention_evaluate_clubs()
            self._retention_run_order_playbooks()
        return order_id

    def _retention_run_order_playbooks(self):
        """Where the company counts its till, a paid purchase of a known
        customer triggers the order playbooks like a confirmed sales order,
        once per order (the till syncs an order again when a tip is added).
        Refunds are no purchase. Only the orders' own rows are written."""
        orders = self.filtered(
            lambda order: (
                order.partner_id
                and order.state in SOLD_STATES
                and order.amount_total > 0
                and not order.retention_playbooks_done
                and not order.lines.refunded_orderline_id
                and order.company_id.retention_revenue_source == "orders_pos"
            )
        )
        if orders:
            orders.retention_playbooks_done = True
            self.env["retention.playbook"]._run_for_orders(orders)

    def _retention_evaluate_clubs(self):
        """Where PoS orders count, a paid one may lift its customer to a
        higher club level at once (moving down waits for the daily run)."""
        orders = self.filtered(
            lambda order: (
                order.partner_id and order.company_id.retention_revenue_source == "orders_pos"
            )
        )
        setup = self.env["retention.club"]._retention_setup()
        companies = setup["qualified_company_ids"] & set(orders.company_id.ids)
        if companies:
            self.env["retention.club.membership"]._evaluate_qualified(
                partner_ids=orders.partner_id.commercial_partner_id.ids,
                allow_downgrade=False,
                company_ids=list(companies),
            )

    def _retention_take_back_refunded_points(self):
        """Returns paid at the till take back the points the refunded orders
        earned there, in proportion to the refunded untaxed amount, never
        more than they earned. Points the customer has already spent are
        taken only where the program allows a negative balance: a refund
        that was paid out cannot be refused any more. Idempotent."""
        refunds = self.filtered(lambda order: order.lines.refunded_orderline_id)
        originals = refunds.lines.refunded_orderline_id.order_id
        if not originals:
            return
        refund_lines = originals.lines.refund_orderline_ids.filtered(
            lambda line: line.order_id.state in SOLD_STATES
        )
        entries = (
            self.env["retention.points.entry"]
            .sudo()
            .search(
                [
                    ("pos_order_id", "in", (originals | refund_lines.order_id).ids),
                    ("program_id.program_type", "=", "loyalty"),
                ]
            )
        )
        earned, taken = defaultdict(float), defaultdict(float)
        for entry in entries:
            if entry.pos_order_id in originals and entry.kind == "earn":
                earned[entry.pos_order_id, entry.card_id] += entry.points
            elif entry.pos_order_id in refund_lines.order_id and entry.kind == "refund":
                original = entry.pos_order_id.lines.refunded_orderline_id.order_id
                taken[original, entry.card_id] -= entry.points
        refunded = defaultdict(float)
        for line in refund_lines:
            refunded[line.refunded_orderline_id.order_id] -= line.price_subtotal / (
                line.order_id.currency_rate or 1.0
            )
        changes = []
        for (original, card), points in earned.items():
            amount = sum(original.lines.mapped("price_subtotal")) / (original.currency_rate or 1.0)
            target = reversal_target(points, amount, refunded[original])
            delta = round_points(target - taken[original, card])
            if delta <= 0:
                continue
            refund = refunds.filtered(
                lambda order, original=original: (
                    original in order.lines.refunded_orderline_id.order_id
                )
            )[-1:]
            description = self.env._(
                "Refund of %(order)s (%(refund)s)", order=original.name, refund=refund.name
            )
            if card.program_id.retention_negative_policy != "allow_negative":
                kept = round_points(delta - max(card.points, 0.0))
                if kept > 0:
                    card.sudo().message_post(
                        body=self.env._(
                            "%(what)s: %(points)s points already spent are not taken back.",
                            what=description,
                            points=format(kept, "g"),
                        )
                    )
                    delta = round_points(delta - kept)
            if delta > 0:
                changes.append(
                    {
                        "card": card,
                        "kind": "refund",
                        "points": -delta,
                        "links": {"pos_order_id": refund.id},
                        "description": description,
                    }
                )
        entries = self.env["loyalty.card"]._retention_post(changes, write_history=True)
        for entry in entries:
            # Computed apart: the translation extractor reads the call's arguments.
            signed = f"{entry.points:+g}"
            entry.card_id.sudo().message_post(
                body=self.env._(
                    "%(what)s: %(points)s points", what=entry.description, points=signed
                )
            )
