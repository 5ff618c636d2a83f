from datetime import timedelta
from urllib.parse import urlencode

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request
from odoo.tools import format_date

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..engine.recurrence import parse_recurrences

# Why a change of a subscription was refused, shown once on its page.
SUBSCRIPTION_MESSAGE_KEY = "retention_subscription_message"


class RetentionSubscriptionPortal(CustomerPortal):
    """The customer's subscriptions: next order, past orders, and pausing or
    closing them when the company allows it."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "subscription_count" in counters:
            Subscription = request.env["retention.subscription"]
            values["subscription_count"] = (
                Subscription.search_count(self._subscription_domain())
                if Subscription.has_access("read")
                else 0
            )
        return values

    def _subscription_domain(self):
        partner = request.env.user.partner_id.commercial_partner_id
        return [("partner_id", "=", partner.id), ("state", "!=", "draft")]

    @http.route(
        ["/my/subscriptions", "/my/subscriptions/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_subscriptions(self, page=1, **kw):
        Subscription = request.env["retention.subscription"]
        domain = self._subscription_domain()
        pager = portal_pager(
            url="/my/subscriptions",
            total=Subscription.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        subscriptions = Subscription.search(
            domain, order="state, next_date", limit=self._items_per_page, offset=pager["offset"]
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "subscriptions": subscriptions,
                "pager": pager,
                "page_name": "retention_subscriptions",
            }
        )
        return request.render("retention_loyalty.portal_my_subscriptions", values)

    def _subscription_check_access(self, subscription_id, access_token):
        """The subscription, if the user may see it (their own, or by its
        link); drafts are the company's work in progress, even with a link."""
        subscription = self._document_check_access(
            "retention.subscription", subscription_id, access_token
        )
        if subscription.state == "draft":
            raise MissingError(request.env._("This subscription does not exist."))
        return subscription

    @http.route(["/my/subscriptions/<int:subscription_id>"], type="http", auth="user", website=True)
    def portal_my_subscription(self, subscription_id, access_token=None, **kw):
        message = self._pop_subscription_message(subscription_id)
        try:
            subscription = self._subscription_check_access(subscription_id, access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "subscription": subscription,
                "orders": subscription.order_ids.filtered(lambda order: order.state == "sale"),
                "reasons": request.env["retention.subscription.close.reason"]
                .sudo()
                .search([("portal_visible", "=", True)]),
                "can_manage": subscription.company_id.retention_subscription_portal_manage,
                "can_change_quantity": subscription.company_id.retention_portal_change_quantity
                and subscription.state in ("active", "paused"),
                "can_skip": subscription.company_id.retention_portal_skip_order
                and not subscription._skip_refusal(),
                "can_renew": subscription.company_id.retention_portal_renew
                and subscription.state in ("active", "paused")
                and bool(subscription.date_end or subscription.max_periods),
                "renewal": subscription._open_renewal(),
                "recurrence_choices": self._recurrence_choices(subscription),
                "min_resume_date": subscription._today() + timedelta(days=1),
                "message": message,
                "page_name": "retention_subscription",
            }
        )
        return request.render("retention_loyalty.portal_my_subscription", values)

    def _managed_subscription(
        self, subscription_id, access_token, setting="retention_subscription_portal_manage"
    ):
        """The subscription, if the signed-in customer may change it this way:
        their own, and the company allows it (``setting`` of the company)."""
        subscription = self._subscription_check_access(subscription_id, access_token)
        # A shared link lets someone see the subscription, not change it.
        if subscription.partner_id != request.env.user.partner_id.commercial_partner_id:
            raise AccessError(request.env._("Only the customer can change the subscription."))
        if not subscription.company_id[setting]:
            raise AccessError(request.env._("Contact us to change your subscription."))
        # Allowed: the change is made as the customer (the author of what it
        # logs), with the rights the checks above granted.
        return subscription.with_user(request.env.user).sudo()

    @staticmethod
    def _back_to_subscription(subscription_id, error=None):
        """Back to the page (by its link when the change came by it), with
        why the change was refused. The reason travels in the session, not
        the link: a crafted link cannot put words on our page."""
        if error:
            request.session[SUBSCRIPTION_MESSAGE_KEY] = {"id": subscription_id, "text": error}
        url = f"/my/subscriptions/{subscription_id}"
        access_token = request.params.get("access_token")
        if access_token:
            url = f"{url}?{urlencode({'access_token': access_token})}"
        return request.redirect(url)

    @staticmethod
    def _pop_subscription_message(subscription_id):
        message = request.session.pop(SUBSCRIPTION_MESSAGE_KEY, None) or {}
        return message.get("text") if message.get("id") == subscription_id else None

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/pause"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_pause_subscription(self, subscription_id, resume_date=None, access_token=None, **kw):
        try:
            subscription = self._managed_subscription(subscription_id, access_token)
            try:
                resume_on = fields.Date.to_date(resume_date or None)
            except ValueError as error:
                raise UserError(request.env._("The resume date is not a valid date.")) from error
            subscription.action_pause(resume_date=resume_on)
            body = (
                request.env._(
                    "Paused by the customer in the portal until %(day)s.",
                    day=format_date(request.env, resume_on),
                )
                if resume_on
                else request.env._("Paused by the customer in the portal.")
            )
            subscription.message_post(body=body, author_id=request.env.user.partner_id.id)
        except (AccessError, MissingError, UserError) as error:
            return self._back_to_subscription(subscription_id, error.args[0])
        return self._back_to_subscription(subscription_id)

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/resume"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_resume_subscription(self, subscription_id, access_token=None, **kw):
        try:
            subscription = self._managed_subscription(subscription_id, access_token)
            subscription.action_resume()
            subscription.message_post(
                body=request.env._("Resumed by the customer in the portal."),
                author_id=request.env.user.partner_id.id,
            )
        except (AccessError, MissingError, UserError) as error:
            return self._back_to_subscription(subscription_id, error.args[0])
        return self._back_to_subscription(subscription_id)

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/close"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_close_subscription(
        self, subscription_id, reason_id=None, note=None, access_token=None, **kw
    ):
        try:
            subscription = self._managed_subscription(subscription_id, access_token)
            reason = (
                request.env["retention.subscription.close.reason"]
                .sudo()
                .search([("id", "=", int(reason_id or 0)), ("portal_visible", "=", True)])
            )
            subscription._close(reason, note)
            subscription.message_post(
                body=request.env._(
                    "Closed by the customer in the portal: %(reason)s", reason=reason.name
                ),
                author_id=request.env.user.partner_id.id,
            )
        except (AccessError, MissingError, UserError) as error:
            return self._back_to_subscription(subscription_id, error.args[0])
        except ValueError:
            return self._back_to_subscription(
                subscription_id, request.env._("Choose why the subscription closes.")
            )
        return self._back_to_subscription(subscription_id)

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/quantities"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_subscription_quantities(self, subscription_id, access_token=None, **post):
        """Quantities posted as ``quantity_<line id>``; from the next order on."""
        try:
            subscription = self._managed_subscription(
                subscription_id, access_token, setting="retention_portal_change_quantity"
            )
            quantities = {}
            for line in subscription.line_ids:
                value = post.get(f"quantity_{line.id}")
                if value is None:
                    continue
                try:
                    quantities[line] = float(value)
                except ValueError as error:
                    raise UserError(request.env._("Quantities must be numbers.")) from error
            subscription._set_quantities(quantities)
        except (AccessError, MissingError, UserError) as error:
            return self._back_to_subscription(subscription_id, error.args[0])
        return self._back_to_subscription(subscription_id)

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/skip"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_skip_subscription_order(self, subscription_id, access_token=None, **kw):
        try:
            subscription = self._managed_subscription(
                subscription_id, access_token, setting="retention_portal_skip_order"
            )
            subscription.action_skip_next_order()
        except (AccessError, MissingError, UserError) as error:
            return self._back_to_subscription(subscription_id, error.args[0])
        return self._back_to_subscription(subscription_id)

    @staticmethod
    def _recurrence_choices(subscription):
        """[(value, label, current)] the customer may choose from; empty when
        they cannot change the recurrence now."""
        if not subscription.company_id.retention_portal_change_recurrence:
            return []
        current = subscription._recurrence().recurrence
        allowed = subscription._allowed_recurrences()
        others = [choice for choice in allowed if choice != current]
        if not others or subscription._recurrence_change_refusal(others[0], allowed):
            return []
        return [
            (
                f"{choice.interval} {choice.unit}",
                subscription._recurrence_label_of(choice),
                choice == current,
            )
            for choice in ([current] if current not in allowed else []) + allowed
        ]

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/recurrence"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_subscription_recurrence(
        self, subscription_id, recurrence=None, access_token=None, **kw
    ):
        """The customer's choice among the company's recurrences, posted as
        "<interval> <unit>" (e.g. "3 month"); from the next order on."""
        try:
            subscription = self._managed_subscription(
                subscription_id, access_token, setting="retention_portal_change_recurrence"
            )
            try:
                (chosen,) = parse_recurrences(recurrence or "")
            except ValueError as error:
                raise UserError(request.env._("Choose one of the recurrences offered.")) from error
            subscription._change_recurrence(
                chosen,
                allowed=subscription._allowed_recurrences(),
                author=request.env.user.partner_id,
            )
        except (AccessError, MissingError, UserError) as error:
            return self._back_to_subscription(subscription_id, error.args[0])
        return self._back_to_subscription(subscription_id)

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/renew"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_renew_subscription(self, subscription_id, access_token=None, **kw):
        """The renewal quotation to sign (proposed now if none is waiting)."""
        try:
            subscription = self._managed_subscription(
                subscription_id, access_token, setting="retention_portal_renew"
            )
            quotation = subscription._propose_renewal()
        except (AccessError, MissingError, UserError) as error:
            return self._back_to_subscription(subscription_id, error.args[0])
        return request.redirect(quotation.get_portal_url())

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/payment_method"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_subscription_payment_method(
        self, subscription_id, token_id=None, access_token=None, **kw
    ):
        """The customer charges their subscription to one of their own saved
        payment methods; a failed payment being retried is tried again with
        it at once. Anything else (another customer's subscription or
        token) is not found."""
        try:
            subscription = self._subscription_check_access(subscription_id, access_token)
        except (AccessError, MissingError) as error:
            raise NotFound() from error
        partner = request.env.user.partner_id
        if subscription.partner_id != partner.commercial_partner_id:
            raise NotFound()
        try:
            token = subscription._payment_tokens().filtered(
                lambda candidate: candidate.id == int(token_id or 0)
            )
        except ValueError as error:
            raise NotFound() from error
        if not token or subscription.state == "closed":
            raise NotFound()
        subscription = subscription.sudo()
        if token != subscription.payment_token_id:
            subscription.payment_token_id = token
            subscription.message_post(
                body=request.env._(
                    "Payment method changed by the customer in the portal: %(token)s",
                    token=token.display_name,
                ),
                author_id=partner.id,
            )
        subscription.charge_ids.filtered(lambda charge: charge.state == "failed")._send_request()
        return self._back_to_subscription(subscription_id)
