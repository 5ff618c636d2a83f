from odoo import http
from odoo.exceptions import UserError
from odoo.http import request


class RetentionEventRegistration(http.Controller):
    """The registration link of a playbook's event invitation. Opening it
    shows the event and a button (a mail scanner following the link
    registers nobody); the button registers the invited partner, once.

    Who registers: the partner of a signed link (``partner_id`` and
    ``token``), else the logged-in user's contact; either way only a
    partner the playbook invited (they or their company)."""

    def _invited_partner(self, event, partner_id, token):
        Partner = request.env["res.partner"].sudo()
        if partner_id or token:
            try:
                partner = Partner.browse(int(partner_id)).exists()
            except (TypeError, ValueError):
                return Partner
            if not partner or not event._retention_check_registration_token(partner, token):
                return Partner
        elif not request.env.user._is_public():
            partner = request.env.user.partner_id.sudo()
        else:
            return Partner
        return partner if event._retention_invited(partner) else Partner

    @http.route(
        "/retention/event/<int:event_id>/register",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def retention_event_register(self, event_id, partner_id=None, token=None, **post):
        event = request.env["event.event"].sudo().browse(event_id).exists()
        partner = self._invited_partner(event, partner_id, token) if event else None
        values = {"event": event, "partner": partner, "partner_id": partner_id, "token": token}
        if not partner:
            values["error"] = request.env._(
                "This invitation link is not valid, or it was sent to someone else."
            )
            return request.render(
                "retention_loyalty_event.event_registration_page", values, status=403
            )
        if request.httprequest.method == "POST":
            try:
                values["registration"] = event._retention_register_invited(partner)
            except UserError as error:
                values["error"] = error.args[0]
        return request.render("retention_loyalty_event.event_registration_page", values)
