from odoo import fields, models


class RetentionSubscriptionCloseWizard(models.TransientModel):
    """Close subscriptions with the reason the churn report counts."""

    _name = "retention.subscription.close.wizard"
    _description = "Close Subscriptions"

    subscription_ids = fields.Many2many("retention.subscription", required=True)
    close_reason_id = fields.Many2one(
        "retention.subscription.close.reason", string="Reason", required=True
    )
    note = fields.Text()

    def action_apply(self):
        self.ensure_one()
        self.subscription_ids._close(self.close_reason_id, self.note)
        return True
