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
        term_ended = self.env.ref(
            "retention_loyalty.subscription_close_reason_term_ended", raise_if_not_found=False
        )
        if term_ended and term_ended in self:
            raise UserError(
                self.env._(
                    "“%(reason)s” closes fixed-term subscriptions when their term is over; it "
                    "cannot be deleted (archive it to hide it).",
                    reason=term_ended.name,
                )
            )
