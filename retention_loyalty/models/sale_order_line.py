from contextlib import nullcontext

from odoo import api, fields, models

from .loyalty_card import points_origin


class SaleOrderLine(models.Model):
    """Reward lines changed on a confirmed order spend more or fewer points
    of that order. Odoo's reward flows say so themselves (see sale.order);
    a line changed directly counts as spending on its order only for the
    server or a retention administrator, otherwise the card refuses the
    change as a manual adjustment."""

    _inherit = "sale.order.line"

    retention_unit_cost = fields.Float(
        string="Unit Cost at Confirmation",
        digits="Product Price",
        readonly=True,
        copy=False,
        help="The product's cost per unit of the line, in the company's currency, when the "
        "order was confirmed: the line's margin is counted with it (sale_margin's cost when "
        "that module is installed).",
    )

    def _compute_qty_to_invoice(self):
        """Subscription periods (and their prorated changes) are billed in
        advance by their invoice (see the subscription's invoice policy):
        their lines are invoiced on the ordered quantity, whatever the
        product's invoicing policy, so that a delivered-quantity product
        never asks for a credit note."""
        res = super()._compute_qty_to_invoice()
        for line in self:
            order = line.order_id
            if (
                line.state == "sale"
                and not line.display_type
                and order._retention_billing_subscription().invoice_policy not in (False, "none")
            ):
                line.qty_to_invoice = line.product_uom_qty - line.qty_invoiced
        return res

    def _retention_reward_origin(self, orders):
        if self.env.su or self.env.user.has_group("retention_loyalty.group_retention_manager"):
            return points_origin("reward", orders)
        return nullcontext()

    @api.model_create_multi
    def create(self, vals_list):
        orders = self.env["sale.order"].browse(
            {vals.get("order_id") for vals in vals_list} - {None}
        )
        with self._retention_reward_origin(orders[:1]):
            return super().create(vals_list)

    def write(self, vals):
        if "points_cost" not in vals:
            return super().write(vals)
        with self._retention_reward_origin(self.order_id[:1]):
            return super().write(vals)

    def unlink(self):
        with self._retention_reward_origin(self.order_id[:1]):
            return super().unlink()
