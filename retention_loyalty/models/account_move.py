from odoo import models


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

    def _retention_sync_refunded_orders(self):
        for move in self.filtered(lambda move: move.move_type == "out_refund"):
            move.invoice_line_ids.sale_line_ids.order_id._retention_sync_refunds(move)
