from odoo import models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _retention_shop_redeemer(self):
        """The back-office "Use Points" wizard of this cart, in memory: the
        shop offers and checks points with exactly its rules (cards Odoo
        applies to the order, balance, order total, steps)."""
        self.ensure_one()
        return (
            self.env["retention.points.redeem.wizard"]
            .sudo()
            .with_company(self.company_id)
            .new({"order_id": self.id})
        )

    def _retention_shop_check_owner(self, user):
        """Only the signed-in customer of a cart spends points on it."""
        self.ensure_one()
        if user._is_public() or self.partner_id != user.partner_id:
            raise UserError(self.env._("Sign in to use your loyalty points."))
        if self.state != "draft":
            raise UserError(self.env._("Points can only be used on an order not yet confirmed."))

    def _retention_shop_use_points(self, points, user):
        """Spend ``points`` of the customer's card on this cart (0 gives them
        back), as "Use Points" does; on any refusal nothing changes."""
        self._retention_shop_check_owner(user)
        order = self.sudo().with_company(self.company_id)
        with self.env.cr.savepoint():
            if not points:
                order._retention_shop_points_lines().unlink()
                order.retention_points_to_redeem = 0.0
                order._update_programs_and_rewards()
                return True
            wizard = (
                self.env["retention.points.redeem.wizard"]
                .sudo()
                .with_company(self.company_id)
                .create({"order_id": order.id, "points": points})
            )
            return wizard.action_apply()

    def _retention_shop_points_lines(self):
        self.ensure_one()
        return self.order_line.filtered(
            lambda line: (
                line.reward_id
                and line.reward_id == line.coupon_id.program_id.retention_redeem_reward_id
            )
        )

    def _retention_shop_points_summary(self):
        """What the cart shows: the points this cart earns per program, and
        what the customer may spend on it."""
        self.ensure_one()
        earned = {}
        for coupon_points in self.coupon_point_ids:
            program = coupon_points.coupon_id.program_id
            if program.program_type == "loyalty" and coupon_points.points > 0:
                earned[program] = earned.get(program, 0.0) + coupon_points.points
        redeemer = self._retention_shop_redeemer()
        card = redeemer.card_id._origin
        return {
            "earned": list(earned.items()),
            "card": card,
            "balance": redeemer.balance,
            "max_points": redeemer.max_points,
            "point_value": redeemer.point_value,
            "step": card.program_id.retention_redeem_reward_id.required_points or 1.0,
            "used": sum(self._retention_shop_points_lines().mapped("points_cost")),
        }
