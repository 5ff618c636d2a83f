from odoo import api, fields, models
from odoo.exceptions import UserError

from ..engine.points import check_redemption, redeemable_points, round_points


class RetentionPointsRedeemWizard(models.TransientModel):
    """Spend a chosen number of points on a quotation; the customer pays the rest."""

    _name = "retention.points.redeem.wizard"
    _description = "Use Loyalty Points"

    order_id = fields.Many2one("sale.order", required=True, readonly=True)
    card_id = fields.Many2one(
        "loyalty.card",
        string="Loyalty Card",
        compute="_compute_card_id",
        store=True,
        readonly=False,
        domain="[('id', 'in', allowed_card_ids)]",
    )
    allowed_card_ids = fields.Many2many("loyalty.card", compute="_compute_allowed_card_ids")
    balance = fields.Float(compute="_compute_limits", string="Available Points")
    max_points = fields.Float(compute="_compute_limits", string="Usable on This Order")
    point_value = fields.Float(
        compute="_compute_point_value",
        string="Value of a Point",
        help="In the order's currency.",
        digits=(16, 6),
    )
    currency_id = fields.Many2one(related="order_id.currency_id")
    points = fields.Float(string="Points to Use", digits=(16, 2))
    amount = fields.Monetary(compute="_compute_amount", string="Discount")

    @api.depends("order_id")
    def _compute_allowed_card_ids(self):
        """Cards Odoo's loyalty applies to the order: made out to the order's
        customer itself (not another contact of the same company), of a
        program the order may use."""
        for wizard in self:
            order = wizard.order_id
            if not order.partner_id:
                wizard.allowed_card_ids = False
                continue
            cards = self.env["loyalty.card"].search(
                [
                    ("partner_id", "=", order.partner_id.id),
                    ("program_id.program_type", "=", "loyalty"),
                    ("program_id.retention_redeem_reward_id", "!=", False),
                    ("points", ">", 0),
                ]
            )
            usable_programs = cards.program_id.filtered_domain(order._get_program_domain())
            wizard.allowed_card_ids = cards.filtered(
                lambda card, programs=usable_programs: card.program_id in programs
            )

    @api.depends("card_id", "order_id")
    def _compute_point_value(self):
        for wizard in self:
            reward = wizard.card_id.program_id.retention_redeem_reward_id
            order = wizard.order_id
            # Converted as Odoo converts the discount of the reward line.
            wizard.point_value = (
                reward.currency_id._convert(
                    reward.discount, order.currency_id, order.company_id, fields.Date.today()
                )
                if reward and order
                else 0.0
            )

    @api.depends("allowed_card_ids")
    def _compute_card_id(self):
        for wizard in self:
            wizard.card_id = wizard.allowed_card_ids[:1]

    @api.depends("card_id", "order_id", "point_value")
    def _compute_limits(self):
        for wizard in self:
            if not wizard.card_id or wizard.point_value <= 0:
                wizard.balance = wizard.max_points = 0.0
                continue
            wizard.balance = wizard._available_points()
            wizard.max_points = redeemable_points(
                wizard.balance, wizard._order_total(), wizard.point_value
            )

    @api.depends("points", "point_value")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = wizard.points * wizard.point_value

    def _redeem_lines(self):
        reward = self.card_id.program_id.retention_redeem_reward_id
        return self.order_id.order_line.filtered(
            lambda line: line.reward_id == reward and line.coupon_id == self.card_id
        )

    def _order_total(self):
        """What the customer would pay without points spent on this card."""
        return self.order_id.amount_total - sum(self._redeem_lines().mapped("price_total"))

    def _available_points(self):
        """The card's balance less points other rewards of the order already use."""
        used = sum(
            (self.order_id.order_line - self._redeem_lines())
            .filtered(lambda line: line.coupon_id == self.card_id)
            .mapped("points_cost")
        )
        return round_points(self.card_id.points - used)

    def action_apply(self):
        self.ensure_one()
        order = self.order_id
        if order.state not in ("draft", "sent"):
            raise UserError(self.env._("Points can only be used on a quotation."))
        if not self.card_id or self.card_id not in self.allowed_card_ids:
            raise UserError(
                self.env._(
                    "%(customer)s has no loyalty card with points to use on this order.",
                    customer=order.partner_id.display_name,
                )
            )
        self.card_id._retention_check_usable()
        reward = self.card_id.program_id.retention_redeem_reward_id
        try:
            check_redemption(
                round_points(self.points),
                self.balance,
                self._order_total(),
                self.point_value,
            )
        except ValueError as error:
            raise UserError(str(error)) from error
        if round_points(
            self.points / reward.required_points
        ) * reward.required_points != round_points(self.points):
            raise UserError(
                self.env._("Points are used in steps of %(step)s.", step=reward.required_points)
            )
        self._redeem_lines().unlink()
        order.retention_points_to_redeem = round_points(self.points)
        result = order._apply_program_reward(reward, self.card_id)
        if result.get("error"):
            raise UserError(result["error"])
        order._update_programs_and_rewards()
        if not self._redeem_lines():
            # Odoo's loyalty did not keep the reward: nothing may look applied.
            raise UserError(
                self.env._(
                    "The points of card %(card)s cannot be used on this order.",
                    card=self.card_id.code,
                )
            )
        return True
