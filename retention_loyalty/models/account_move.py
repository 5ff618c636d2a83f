from odoo import fields, models


class AccountMove(models.Model):
    """Credit notes take back the loyalty points of the orders they refund."""

    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._retention_sync_refunded_orders()
        return posted

    def button_draft(self):
        refunds = self.filtered(lambda move: move.state == "posted")
        res = super().button_draft()
        refunds._retention_sync_refunded_orders()
        return res

    def button_cancel(self):
        refunds = self.filtered(lambda move: move.state == "posted")
        res = super().button_cancel()
        refunds._retention_sync_refunded_orders()
        return res

    def _invoice_paid_hook(self):
        """Paid memberships that wait for their invoice start when it is paid."""
        res = super()._invoice_paid_hook()
        orders = self.filtered(
            lambda move: move.move_type == "out_invoice"
        ).line_ids.sale_line_ids.order_id
        if orders:
            waiting = (
                self.env["retention.club.membership"]
                .sudo()
                .search([("order_id", "in", orders.ids), ("awaiting_payment", "=", True)])
            )
            waiting.write({"awaiting_payment": False})
            waiting._activate_due(fields.Date.context_today(self))
        return res

    def _retention_sync_refunded_orders(self):
        for move in self.filtered(lambda move: move.move_type == "out_refund"):
            move.sudo().invoice_line_ids.sale_line_ids.order_id._retention_sync_refunds(move)
