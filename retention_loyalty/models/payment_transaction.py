from odoo import fields, models


class PaymentTransaction(models.Model):
    """Transactions charging subscription periods report back to their charge."""

    _inherit = "payment.transaction"

    retention_charge_id = fields.Many2one(
        "retention.subscription.charge",
        string="Subscription Payment",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )

    def _post_process(self):
        """Odoo creates and reconciles the payment of a confirmed transaction
        (account_payment); then its subscription charge is paid, or, for a
        refused one, failed (and retried)."""
        res = super()._post_process()
        for transaction in self.filtered("retention_charge_id"):
            if transaction.state in ("done", "cancel", "error"):
                transaction.retention_charge_id._on_transaction_result(transaction)
        return res
