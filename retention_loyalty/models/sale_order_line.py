from odoo import api, models


class SaleOrderLine(models.Model):
    """Reward lines changed on a confirmed order spend more or fewer points
    of that order: tell the ledger which order it is."""

    _inherit = "sale.order.line"

    def _retention_reward_context(self, orders):
        return self.with_context(
            retention_points_origin={"event": "reward", "order_ids": orders.ids}
        )

    @api.model_create_multi
    def create(self, vals_list):
        orders = self.env["sale.order"].browse(
            {vals.get("order_id") for vals in vals_list} - {None}
        )
        return super(SaleOrderLine, self._retention_reward_context(orders[:1])).create(vals_list)

    def write(self, vals):
        return super(SaleOrderLine, self._retention_reward_context(self.order_id[:1])).write(vals)

    def unlink(self):
        return super(SaleOrderLine, self._retention_reward_context(self.order_id[:1])).unlink()
