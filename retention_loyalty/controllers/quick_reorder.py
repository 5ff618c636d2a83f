from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

# How often a standing order may run, as offered on the page: key: (interval, unit).
STANDING_INTERVALS = {
    "1-week": (1, "week"),
    "2-week": (2, "week"),
    "1-month": (1, "month"),
    "2-month": (2, "month"),
    "3-month": (3, "month"),
    "6-month": (6, "month"),
}
QUANTITY_PREFIX = "qty_"


class RetentionQuickReorderPortal(CustomerPortal):
    """Key accounts' Quick reorder page: their usual products at their
    prices, one click to a quotation (or an order), or a standing order."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if not counters:  # the home page itself, not the counters it fetches
            values["retention_quick_reorder"] = (
                request.env.user.partner_id._retention_quick_reorder_allowed()
            )
        return values

    @staticmethod
    def _quick_reorder_contact():
        """The portal user's contact, when their company is a key account
        here; the page does not exist for anyone else. Everything is done for
        this contact's own company, whatever the request says."""
        partner = request.env.user.partner_id
        if not partner._retention_quick_reorder_allowed():
            raise NotFound()
        return partner

    @staticmethod
    def _submitted_quantities(form):
        return {
            key[len(QUANTITY_PREFIX) :]: value
            for key, value in form.items()
            if key.startswith(QUANTITY_PREFIX)
        }

    def _render_quick_reorder(self, contact, error=None, quantities=None, standing=None):
        company = request.env.company.sudo()
        # Read as the server after the key-account check: the customer's order
        # history, products and prices, for this contact's company only.
        contact_sudo = contact.sudo()
        offer = contact_sudo._retention_quick_reorder_offer(company)
        requested = (
            request.env["retention.subscription"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", contact.commercial_partner_id.id),
                    ("company_id", "=", company.id),
                    ("state", "=", "draft"),
                    ("requested_by_id", "!=", False),
                ]
            )
        )
        today = request.env["retention.subscription"]._company_today(company)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                **offer,
                "quantities": quantities or {},
                "error": error,
                "standing": standing,
                "requested": requested,
                "confirms": company.retention_quick_reorder_confirm,
                "intervals": STANDING_INTERVALS,
                "min_first_date": fields.Date.add(today, days=1),
                "page_name": "retention_quick_reorder",
            }
        )
        return request.render("retention_loyalty.portal_quick_reorder", values)

    @http.route(["/my/reorder"], type="http", auth="user", website=True)
    def portal_quick_reorder(self, standing=None, **kw):
        contact = self._quick_reorder_contact()
        return self._render_quick_reorder(
            contact, standing="requested" if standing == "requested" else None
        )

    @http.route(["/my/reorder/order"], type="http", auth="user", methods=["POST"], website=True)
    def portal_quick_reorder_order(self, **form):
        contact = self._quick_reorder_contact()
        quantities = self._submitted_quantities(form)
        try:
            with request.env.cr.savepoint():
                order = contact.sudo()._retention_quick_reorder_order(
                    request.env.company.sudo(), quantities
                )
        except (UserError, ValidationError) as error:
            return self._render_quick_reorder(contact, error=error.args[0], quantities=quantities)
        return request.redirect(order.get_portal_url())

    @http.route(["/my/reorder/standing"], type="http", auth="user", methods=["POST"], website=True)
    def portal_quick_reorder_standing(self, every=None, first_date=None, **form):
        contact = self._quick_reorder_contact()
        quantities = self._submitted_quantities(form)
        try:
            if every not in STANDING_INTERVALS:
                raise UserError(request.env._("Choose how often to order."))
            interval, unit = STANDING_INTERVALS[every]
            try:
                first_day = fields.Date.to_date(first_date or None)
            except ValueError as error:
                raise UserError(
                    request.env._("The first order date is not a valid date.")
                ) from error
            with request.env.cr.savepoint():
                subscription = contact.sudo()._retention_standing_order(
                    request.env.company.sudo(), quantities, interval, unit, first_day
                )
        except (UserError, ValidationError) as error:
            return self._render_quick_reorder(contact, error=error.args[0], quantities=quantities)
        if subscription.state == "draft":
            return request.redirect("/my/reorder?standing=requested")
        return request.redirect(f"/my/subscriptions/{subscription.id}")
