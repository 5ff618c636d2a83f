from odoo import api, fields, models

from ..engine.recurrence import Recurrence
from ..models.retention_subscription import UNIT_SELECTION


class RetentionSubscriptionRecurrenceWizard(models.TransientModel):
    """The salesperson changes a running subscription's recurrence, from its
    next order on (any recurrence: the company's list is for customers)."""

    _name = "retention.subscription.recurrence.wizard"
    _description = "Change the Recurrence of a Subscription"

    subscription_id = fields.Many2one("retention.subscription", required=True, readonly=True)
    next_date = fields.Date(related="subscription_id.next_date", string="From the Order Of")
    interval = fields.Integer(string="Every", required=True)
    interval_unit = fields.Selection(UNIT_SELECTION, required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        subscription = self.env["retention.subscription"].browse(values.get("subscription_id"))
        if subscription:
            values.setdefault("interval", subscription.interval)
            values.setdefault("interval_unit", subscription.interval_unit)
        return values

    def action_apply(self):
        self.ensure_one()
        self.subscription_id._change_recurrence(Recurrence(self.interval, self.interval_unit))
        return True
