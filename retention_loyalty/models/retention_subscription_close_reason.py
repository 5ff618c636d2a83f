from odoo import api, fields, models
from odoo.exceptions import UserError


class RetentionSubscriptionCloseReason(models.Model):
    """Why customers stop a subscription: the churn report groups by it."""

    _name = "retention.subscription.close.reason"
    _description = "Subscription Close Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    portal_visible = fields.Boolean(
        string="Customers May Choose It", default=True, help="Offered in the customer portal."
    )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_term_ended(self):
        for xmlid in (
            "retention_loyalty.subscription_close_reason_term_ended",
            "retention_loyalty.subscription_close_reason_payment_failed",
        ):
            reason = self.env.ref(xmlid, raise_if_not_found=False)
            if reason and reason in self:
                raise UserError(
                    self.env._(
                        "“%(reason)s” closes subscriptions by itself; it cannot be deleted "
                        "(archive it to hide it).",
                        reason=reason.name,
                    )
                )
