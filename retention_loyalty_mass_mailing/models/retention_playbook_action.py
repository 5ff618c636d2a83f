from odoo import api, fields, models


class RetentionPlaybookAction(models.Model):
    """A playbook action that subscribes customers to a mailing list
    (newsletters, customer-education content by tier)."""

    _inherit = "retention.playbook.action"

    kind = fields.Selection(
        selection_add=[("mailing_list", "Subscribe to a mailing list")],
        ondelete={"mailing_list": "cascade"},
    )
    mailing_list_id = fields.Many2one("mailing.list")

    @api.constrains("kind", "mailing_list_id")
    def _check_mailing_list(self):
        self._check_action()

    def _problem(self):
        if self.kind == "mailing_list" and not self.mailing_list_id:
            return self.env._("choose the mailing list to subscribe customers to.")
        return super()._problem()

    def _run_mailing_list(self, partners, today, results, notes):
        """One mailing contact per customer email, subscribed to the list;
        customers already on it are left as they are (an opt-out stays)."""
        reachable = partners.filtered("email")
        for partner in partners - reachable:
            notes[partner.id].append(self.env._("No email address: not subscribed."))
        # The customer did not ask for this subscription: no newsletter bonus.
        Contact = (
            self.env["mailing.contact"].sudo().with_context(retention_playbook_subscription=True)
        )
        known = {
            contact.email_normalized: contact
            for contact in Contact.search(
                [("email_normalized", "in", reachable.mapped("email_normalized"))]
            )
        }
        to_create = []
        for partner in reachable:
            contact = known.get(partner.email_normalized)
            if contact and self.mailing_list_id in contact.list_ids:
                notes[partner.id].append(self.env._("Already on the mailing list."))
            elif contact:
                contact.list_ids = [fields.Command.link(self.mailing_list_id.id)]
            else:
                to_create.append(
                    {
                        "name": partner.name,
                        "email": partner.email,
                        "list_ids": [fields.Command.link(self.mailing_list_id.id)],
                    }
                )
        Contact.create(to_create)
        for partner in reachable:
            notes[partner.id].append(
                self.env._("Subscribed to %(list)s.", list=self.mailing_list_id.name)
            )
