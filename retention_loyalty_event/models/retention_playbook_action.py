from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime


class RetentionPlaybookAction(models.Model):
    """A playbook action that invites customers to an event (seminars for
    high-value customers, tastings for club members...)."""

    _inherit = "retention.playbook.action"

    kind = fields.Selection(
        selection_add=[("event", "Invite to an event")], ondelete={"event": "cascade"}
    )
    event_id = fields.Many2one("event.event", check_company=True)
    event_template_id = fields.Many2one(
        "mail.template",
        string="Invitation Email",
        domain=[("model", "=", "res.partner")],
        default=lambda self: self.env.ref(
            "retention_loyalty_event.mail_template_event_invitation", raise_if_not_found=False
        ),
    )

    @api.constrains("kind", "event_id", "event_template_id")
    def _check_event(self):
        self._check_action()

    def _problem(self):
        if self.kind == "event" and (
            not self.event_id
            or not self.event_template_id
            or self.event_template_id.model != "res.partner"
        ):
            return self.env._("an invitation needs an event and an email template for contacts.")
        return super()._problem()

    def _run_event(self, partners, today, results, notes):
        event = self.event_id
        if event.date_end and event.date_end < fields.Datetime.now():
            raise UserError(self.env._("Event %(event)s is over.", event=event.name))
        reachable = partners.filtered("email")
        for partner in partners - reachable:
            notes[partner.id].append(self.env._("No email address: not invited."))
        # The time of the event where it takes place, in each guest's language,
        # as Odoo's own event emails show it.
        for lang, guests in reachable.grouped("lang").items():
            when = format_datetime(
                self.env, event.date_begin, tz=event.date_tz, dt_format="medium", lang_code=lang
            )
            self.event_template_id.with_context(
                retention_event_name=event.name,
                retention_event_date=f"{when} ({event.date_tz})",
                retention_event_url=event.get_base_url() + f"/odoo/event.event/{event.id}",
                # Each guest's own signed link to register.
                retention_event_register_urls={
                    guest.id: event._retention_registration_url(guest) for guest in guests
                },
            ).send_mail_batch(guests.ids, email_layout_xmlid="mail.mail_notification_light")
        for partner in reachable:
            results[partner.id]["email_sent"] = True
            notes[partner.id].append(self.env._("Invited to %(event)s.", event=event.name))
