from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..engine.recurrence import Recurrence
from ..models.retention_subscription import UNIT_SELECTION


class RetentionSubscriptionMakeWizard(models.TransientModel):
    """Turn a confirmed sales order into a subscription that orders the same
    products every period, starting one period after the order."""

    _name = "retention.subscription.make.wizard"
    _description = "Make a Subscription from an Order"

    order_id = fields.Many2one("sale.order", required=True, readonly=True)
    interval = fields.Integer(string="Every", default=1, required=True)
    interval_unit = fields.Selection(UNIT_SELECTION, default="month", required=True)
    date_start = fields.Date(
        string="First Order", compute="_compute_date_start", store=True, readonly=False
    )
    date_end = fields.Date(string="End")
    max_periods = fields.Integer(string="Number of Orders")
    price_mode = fields.Selection(
        [("pricelist", "Price list at each order"), ("frozen", "Prices of this order")],
        default="frozen",
        required=True,
    )

    @api.depends("order_id", "interval", "interval_unit")
    def _compute_date_start(self):
        for wizard in self:
            day = (wizard.order_id.date_order or fields.Datetime.now()).date()
            if wizard.interval > 0:
                day = Recurrence(wizard.interval, wizard.interval_unit).period_start(day, 1)
            wizard.date_start = day

    def action_apply(self):
        self.ensure_one()
        order = self.order_id
        order.action_retention_make_subscription()  # the same checks as the button
        lines = order.order_line.filtered(
            lambda line: not line.display_type and not line.is_reward_line and line.product_id
        )
        if not lines:
            raise UserError(self.env._("The order has no product to subscribe to."))
        subscription = self.env["retention.subscription"].create(
            {
                "partner_id": order.partner_id.id,
                "partner_invoice_id": order.partner_invoice_id.id,
                "partner_shipping_id": order.partner_shipping_id.id,
                "company_id": order.company_id.id,
                "user_id": order.user_id.id,
                "pricelist_id": order.pricelist_id.id,
                "interval": self.interval,
                "interval_unit": self.interval_unit,
                "date_start": self.date_start,
                "date_end": self.date_end,
                "max_periods": self.max_periods,
                "price_mode": self.price_mode,
                "origin_order_id": order.id,
                "line_ids": [
                    Command.create(
                        {
                            "product_id": line.product_id.id,
                            "name": line.name,
                            "quantity": line.product_uom_qty,
                            "product_uom_id": line.product_uom.id,
                            "price_unit": line.price_unit,
                            "discount": line.discount,
                        }
                    )
                    for line in lines
                ],
            }
        )
        subscription.action_activate()
        return {
            "type": "ir.actions.act_window",
            "res_model": "retention.subscription",
            "res_id": subscription.id,
            "view_mode": "form",
        }
