from odoo import api, models


class MailingSubscription(models.Model):
    """A subscription made or renewed (opt-out lifted) earns the newsletter
    bonus; the list's contacts written through ``list_ids`` are seen by
    mailing.contact."""

    _inherit = "mailing.subscription"

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        subscriptions.contact_id._retention_grant_newsletter_bonus()
        return subscriptions

    def write(self, vals):
        result = super().write(vals)
        if "opt_out" in vals and not vals["opt_out"]:
            self.contact_id._retention_grant_newsletter_bonus()
        return result
