from odoo import api, fields, models


class EventRegistration(models.Model):
    """Attending an event (its registration marked attended) earns the
    event bonus; being invited or registered earns nothing."""

    _inherit = "event.registration"

    @api.model_create_multi
    def create(self, vals_list):
        registrations = super().create(vals_list)
        registrations._retention_grant_event_bonus()
        self.env["retention.incentive.cost"]._record_attendee_costs(registrations)
        return registrations

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") == "done":
            self._retention_grant_event_bonus()
        if "state" in vals:
            self.env["retention.incentive.cost"]._record_attendee_costs(self)
        return result

    def _retention_grant_event_bonus(self):
        attended = self.sudo().filtered(
            lambda registration: registration.state == "done" and registration.partner_id
        )
        if attended:
            today = fields.Date.context_today(self)
            self.env["loyalty.program"]._retention_grant_bonus(
                "event", [(partner, today) for partner in attended.partner_id]
            )
