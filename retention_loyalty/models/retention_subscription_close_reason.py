from odoo import fields, models


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
