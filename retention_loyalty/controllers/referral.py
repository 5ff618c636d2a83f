from odoo import http
from odoo.http import request

from odoo.addons.auth_signup.controllers.main import AuthSignupHome
from odoo.addons.portal.controllers.portal import CustomerPortal

from ..engine.referrals import clean_code
from ..models.sale_order import (
    REFERRAL_COOKIE,
    REFERRAL_SESSION_KEY,
    session_referral_code,
)

REFERRAL_COOKIE_DAYS = 30


class RetentionReferralLink(http.Controller):
    @http.route("/referral/<string:code>", type="http", auth="public", website=True, sitemap=False)
    def retention_referral_link(self, code, **kw):
        """Keep the referrer's code for the visitor (session and a cookie, so
        that signing up or ordering later in the month still counts) and send
        them where they can become a customer."""
        code = clean_code(code)
        if code and not request.env["retention.referral"]._retention_referrer_of(code):
            code = None
        if "website_sale" in request.registry._init_modules:
            target = "/shop"
        elif (
            request.env.user._is_public()
            and request.env["res.users"].sudo()._get_signup_invitation_scope() == "b2c"
        ):
            target = "/web/signup"
        else:
            target = "/"
        response = request.redirect(target)
        if code:
            request.session[REFERRAL_SESSION_KEY] = code
            response.set_cookie(
                REFERRAL_COOKIE,
                code,
                max_age=REFERRAL_COOKIE_DAYS * 24 * 3600,
                httponly=True,
                samesite="Lax",
            )
        return response


class RetentionReferralSignup(AuthSignupHome):
    def _signup_with_values(self, token, values):
        code = session_referral_code(request.env)
        super()._signup_with_values(token, values)
        if not code:
            return
        user = (
            request.env["res.users"].sudo().search([("login", "=", values.get("login"))], limit=1)
        )
        if user:
            request.env["retention.referral"].sudo()._retention_record(
                code, user.partner_id, request.env.company, "signup"
            )


class RetentionReferralPortal(CustomerPortal):
    """The customer's own code and link, and whom they brought (first name
    and state only)."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "referral_count" in counters:
            values["referral_count"] = len(self._retention_my_referrals())
        return values

    def _retention_my_referrals(self):
        partner = request.env.user.partner_id.commercial_partner_id
        # Read as the server, only the customer's own, shown in few fields.
        return (
            request.env["retention.referral"]
            .sudo()
            .search([("referrer_id", "=", partner.id)], order="date desc, id desc")
        )

    @http.route("/my/referrals", type="http", auth="user", website=True)
    def portal_my_referrals(self, **kw):
        partner = request.env.user.partner_id
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "retention_referrals",
                "referral_code": partner.sudo()._retention_referral_codes()[partner.id],
                "referral_url": partner.sudo()._retention_referral_url(),
                "referral_lines": [
                    {
                        "first_name": referral.referred_first_name,
                        "date": referral.date,
                        "state": referral.state,
                        "state_label": dict(
                            referral._fields["state"]._description_selection(referral.env)
                        )[referral.state],
                    }
                    for referral in self._retention_my_referrals()
                ],
            }
        )
        return request.render("retention_loyalty.portal_my_referrals", values)
