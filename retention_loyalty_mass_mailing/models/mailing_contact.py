from odoo import api, fields, models


class MailingContact(models.Model):
    """Subscribing to a mailing list earns the newsletter bonus."""

    _inherit = "mailing.contact"

    @api.model_create_multi
    def create(self, vals_list):
        contacts = super().create(vals_list)
        if any({"list_ids", "subscription_ids"} & set(vals) for vals in vals_list):
            contacts._retention_grant_newsletter_bonus()
        return contacts

    def write(self, vals):
        result = super().write(vals)
        if {"list_ids", "subscription_ids"} & set(vals):
            self._retention_grant_newsletter_bonus()
        return result

    def _retention_grant_newsletter_bonus(self):
        """The newsletter bonus for the customers whose email is subscribed
        (not opted out) to a list: the oldest contact (res.partner) with that
        email, so that duplicates of one person earn it once. Subscriptions a
        playbook makes earn nothing: the customer did not ask for them."""
        if self.env.context.get("retention_playbook_subscription"):
            return
        # list_ids and subscription_ids are two fields on one table: what one
        # wrote, the other's cache does not know yet.
        self.env.flush_all()
        self.invalidate_recordset(["subscription_ids"])
        contacts = self.sudo().filtered(
            lambda contact: (
                contact.email_normalized
                and any(not sub.opt_out for sub in contact.subscription_ids)
            )
        )
        if not contacts:
            return
        emails = set(contacts.mapped("email_normalized"))
        first_partner = {}
        for partner in (
            self.env["res.partner"]
            .sudo()
            .search([("email_normalized", "in", list(emails))], order="id")
        ):
            first_partner.setdefault(partner.email_normalized, partner)
        today = fields.Date.context_today(self)
        self.env["loyalty.program"]._retention_grant_bonus(
            "newsletter", [(partner, today) for partner in first_partner.values()]
        )
