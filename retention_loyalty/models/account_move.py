from odoo import fields, models


class AccountMove(models.Model):
    """Credit notes take back the loyalty points of the orders they refund."""

    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._retention_sync_refunded_orders()
        posted._retention_evaluate_clubs()
        refunds = posted.filtered(lambda move: move.move_type == "out_refund")
        if refunds:
            refunds._retention_referral_refunds()
        return posted

    def _retention_evaluate_clubs(self):
        """Where revenue comes from posted invoices, posting one may lift its
        customer to a higher club level at once (never lower: that waits for
        the daily run and its grace period)."""
        moves = self.filtered(
            lambda move: (
                move.is_sale_document() and move.company_id.retention_revenue_source == "invoices"
            )
        )
        companies = self.env["retention.club"]._retention_setup()["qualified_company_ids"] & set(
            moves.company_id.ids
        )
        if companies:
            self.env["retention.club.membership"]._evaluate_qualified(
                partner_ids=moves.partner_id.commercial_partner_id.ids,
                allow_downgrade=False,
                company_ids=list(companies),
            )

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
        """Paid memberships that wait for their invoice start when it is paid;
        the referral of a first order paid is rewarded."""
        res = super()._invoice_paid_hook()
        self._retention_reward_referrals()
        invoices = self.filtered(lambda move: move.move_type == "out_invoice")
        lines = invoices.invoice_line_ids
        if lines.sale_line_ids:
            # Only the invoice that bills the membership product starts it.
            waiting = (
                self.env["retention.club.membership"]
                .sudo()
                .search(
                    [
                        ("order_id", "in", lines.sale_line_ids.order_id.ids),
                        ("awaiting_payment", "=", True),
                        ("club_id.product_id", "in", lines.product_id.ids),
                    ]
                )
            )
            waiting._start_on_payment(fields.Date.context_today(self))
        return res

    def _retention_sync_refunded_orders(self):
        for move in self.filtered(lambda move: move.move_type == "out_refund"):
            move.sudo().invoice_line_ids.sale_line_ids.order_id._retention_sync_refunds(move)

    def _retention_reward_referrals(self):
        orders = self.filtered(
            lambda move: move.move_type == "out_invoice"
        ).invoice_line_ids.sale_line_ids.order_id
        if orders:
            self.env["retention.referral"].sudo().search(
                [("first_order_id", "in", orders.ids), ("state", "=", "pending")]
            )._retention_reward()

    def _retention_referral_refunds(self):
        orders = self.sudo().invoice_line_ids.sale_line_ids.order_id
        referrals = (
            self.env["retention.referral"]
            .sudo()
            .search([("first_order_id", "in", orders.ids), ("state", "!=", "cancelled")])
        )
        if not referrals:
            return
        refunded = referrals.first_order_id._retention_refunded_amounts()
        for referral in referrals:
            order = referral.first_order_id
            if (
                order.currency_id.compare_amounts(refunded.get(order.id, 0.0), order.amount_untaxed)
                < 0
            ):
                continue  # a partial refund keeps the referral
            move = self.filtered(
                lambda move, order=order: order in move.invoice_line_ids.sale_line_ids.order_id
            )[:1]
            referral._retention_take_back(
                "refund",
                self.env._(
                    "First order %(order)s refunded by %(move)s.", order=order.name, move=move.name
                ),
                move=move,
            )
