from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

# What the last save said, shown once on the page. It travels in the session,
# not the link: a crafted link cannot put words on our page.
PROFILE_MESSAGE_KEY = "retention_profile_message"


class RetentionProfilePortal(CustomerPortal):
    """My profile: birthday, interests and marketing consent of the signed-in
    customer's own contact; a complete profile earns the profile bonus. The
    page does not exist for a company's own portal user (no birthday)."""

    def _prepare_portal_layout_values(self):
        values = super()._prepare_portal_layout_values()
        # The home card and the link on My rewards: not for a company's user.
        values["retention_profile_available"] = request.env["retention.portal.profile"]._available()
        return values

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if not counters:  # the home page itself, not the counters it fetches
            contact = request.env.user.partner_id.sudo()
            values["retention_profile_todo"] = not contact.retention_profile_complete
        return values

    @http.route(["/my/profile"], type="http", auth="user", website=True)
    def portal_my_profile(self, **kw):
        if not request.env["retention.portal.profile"]._available():
            raise NotFound()
        message = request.session.pop(PROFILE_MESSAGE_KEY, None) or {}
        values = self._prepare_portal_layout_values()
        values.update(request.env["retention.portal.profile"]._values())
        values.update(
            {
                "success": message.get("success"),
                "error": message.get("error"),
                "page_name": "retention_profile",
            }
        )
        return request.render("retention_loyalty.portal_my_profile", values)

    @http.route(["/my/profile/save"], type="http", auth="user", methods=["POST"], website=True)
    def portal_save_profile(self, birthday=None, marketing_consent=None, **kw):
        """Any partner id in the form is ignored: the page only ever saves
        the user's own contact."""
        Profile = request.env["retention.portal.profile"]
        if not Profile._available():
            raise NotFound()
        preference_ids = request.httprequest.form.getlist("preference_ids")
        try:
            with request.env.cr.savepoint():
                points = Profile._save(birthday, preference_ids, marketing_consent)
        except UserError as error:
            request.session[PROFILE_MESSAGE_KEY] = {"error": error.args[0]}
        else:
            request.session[PROFILE_MESSAGE_KEY] = {
                "success": Profile._earned_message(points)
                if points
                else request.env._("Your profile is saved.")
            }
        return request.redirect("/my/profile")
