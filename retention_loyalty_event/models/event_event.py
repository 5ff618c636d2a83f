from urllib.parse import urlencode

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac

TOKEN_SCOPE = "retention_loyalty_event.registration"


class EventEvent(models.Model):
    """Customers a playbook invited register themselves through the link of
    their invitation."""

    _inherit = "event.event"

    retention_cost_currency_id = fields.Many2one(
        "res.currency", compute="_compute_retention_cost_currency_id"
    )
    retention_cost_per_attendee = fields.Monetary(
        string="Cost per Attendee",
        currency_field="retention_cost_currency_id",
        help="What each attendee costs (venue, catering, gifts), in the company's currency: "
        "counted as an incentive cost when their registration is marked attended, for the "
        "playbook that invited them.",
    )

    def _compute_retention_cost_currency_id(self):
        for event in self:
            event.retention_cost_currency_id = (event.company_id or self.env.company).currency_id

    def _retention_registration_token(self, partner):
        self.ensure_one()
        return hmac(self.env(su=True), TOKEN_SCOPE, (self.id, partner.id))

    def _retention_registration_url(self, partner):
        """The invitation's link for ``partner``: signed, so that it works
        without logging in, for that partner and this event only."""
        self.ensure_one()
        query = urlencode(
            {"partner_id": partner.id, "token": self._retention_registration_token(partner)}
        )
        return f"{self.get_base_url()}/retention/event/{self.id}/register?{query}"

    def _retention_check_registration_token(self, partner, token):
        self.ensure_one()
        return bool(token) and consteq(str(token), self._retention_registration_token(partner))

    def _retention_invited(self, partner):
        """Was ``partner`` (or the company they belong to) invited to this
        event by a playbook? Customers kept in a control group were not."""
        self.ensure_one()
        return bool(
            self.env["retention.playbook.run"]
            .sudo()
            .search_count(
                [
                    ("partner_id", "in", (partner | partner.commercial_partner_id).ids),
                    ("in_control", "=", False),
                    ("email_sent", "=", True),
                    ("state", "not in", ("failed", "control")),
                    ("playbook_id.action_ids.kind", "=", "event"),
                    ("playbook_id.action_ids.event_id", "=", self.id),
                ],
                limit=1,
            )
        )

    def _retention_register_invited(self, partner):
        """The partner's registration to this event, made if they have none
        (a second click gives the same one back). Raises UserError when the
        event is over or full."""
        self.ensure_one()
        event = self.sudo()
        Registration = self.env["event.registration"].sudo()
        existing = Registration.search(
            [
                ("event_id", "=", event.id),
                ("partner_id", "=", partner.id),
                ("state", "!=", "cancel"),
            ],
            limit=1,
        )
        if existing:
            return existing
        if event.date_end and event.date_end < fields.Datetime.now():
            raise UserError(self.env._("Event %(event)s is over.", event=event.name))
        if event.seats_limited and event.seats_available < 1:
            raise UserError(self.env._("Event %(event)s is full.", event=event.name))
        return Registration.create(
            {
                "event_id": event.id,
                "partner_id": partner.id,
                "name": partner.name,
                "email": partner.email,
                "phone": partner.phone,
            }
        )
