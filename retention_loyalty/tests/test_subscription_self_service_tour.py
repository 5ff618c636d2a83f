import base64
import unittest
from datetime import date, timedelta

from odoo import Command
from odoo.service import server
from odoo.tests import tagged
from odoo.tools import file_open

from .test_portal_routes_tour import SubscriptionPortalCase


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestSubscriptionSelfServiceRoutes(SubscriptionPortalCase):
    """Changing quantities, skipping an order and renewing over HTTP, as the
    customer's portal user: only their own subscription, only when the
    company allows it, logged with the customer as author."""

    def test_customer_changes_quantity_and_skips_an_order_in_the_browser(self):
        start = self.subscription._today() + timedelta(days=10)
        subscription = self.env["retention.subscription"].create(
            {
                "partner_id": self.owner_partner.id,
                "date_start": start,
                "line_ids": [Command.create({"product_id": self.coffee.id, "price_unit": 20.0})],
            }
        )
        subscription.action_activate()
        self.start_tour(
            f"/my/subscriptions/{subscription.id}",
            "retention_subscription_self_service_tour",
            login=self.owner.login,
        )
        subscription.invalidate_recordset()
        self.assertEqual(subscription.line_ids.quantity, 3.0)
        self.assertEqual(subscription.next_period, 1)
        self.assertEqual(subscription.skipped_period, 0)
        logged = subscription.message_ids.filtered(
            lambda message: (
                "From the next order" in (message.body or "")
                or "is skipped" in (message.body or "")
            )
        )
        self.assertEqual(len(logged), 2)
        self.assertEqual(logged.author_id, self.owner_partner)

    def _line(self, subscription=None):
        return (subscription or self.subscription).line_ids

    def test_owner_changes_quantities_logged_as_them(self):
        self._login(self.owner)
        page = self._page(f"/my/subscriptions/{self.subscription.id}")
        self.assertEqual(page.xpath(f"//input[@name='quantity_{self._line().id}']/@value"), ["1"])
        self.assertIsNone(
            self._post(self.subscription, "quantities", **{f"quantity_{self._line().id}": "4"})
        )
        self.assertEqual(self._line().quantity, 4.0)
        logged = self.subscription.message_ids.filtered(
            lambda message: "From the next order" in (message.body or "")
        )
        self.assertEqual(logged.author_id, self.owner_partner)
        for bad in ("0", "-2", "lots"):
            with self.subTest(bad=bad):
                message = self._post(
                    self.subscription, "quantities", **{f"quantity_{self._line().id}": bad}
                )
                self.assertTrue(message)
                self.assertEqual(self._line().quantity, 4.0)

    def test_strangers_and_a_company_that_does_not_allow_it_change_nothing(self):
        others = self._subscription(self.other_partner)
        self._login(self.owner)
        # Another customer's line posted on one's own subscription is ignored;
        # another customer's subscription is refused.
        self._post(self.subscription, "quantities", **{f"quantity_{self._line(others).id}": "9"})
        response = self.url_open(
            f"/my/subscriptions/{others.id}/quantities",
            data={"csrf_token": self.csrf_token, f"quantity_{self._line(others).id}": "9"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._line(others).quantity, 1.0)
        self.company.retention_portal_change_quantity = False
        page = self._page(f"/my/subscriptions/{self.subscription.id}")
        self.assertFalse(page.xpath("//form[contains(@action, '/quantities')]"))
        message = self._post(
            self.subscription, "quantities", **{f"quantity_{self._line().id}": "3"}
        )
        self.assertEqual(message, "Contact us to change your subscription.")
        self.assertEqual(self._line().quantity, 1.0)

    def test_owner_skips_the_next_order(self):
        self.subscription._generate_orders()
        next_date = self.subscription.next_date
        self._login(self.owner)
        page = self._page(f"/my/subscriptions/{self.subscription.id}")
        self.assertTrue(page.xpath("//button[hasclass('o_retention_skip')]"))
        self.assertIsNone(self._post(self.subscription, "skip"))
        self.assertGreater(self.subscription.next_date, next_date)
        page = self._page(f"/my/subscriptions/{self.subscription.id}")
        self.assertFalse(page.xpath("//button[hasclass('o_retention_skip')]"), "one at a time")
        self.assertEqual(
            self._post(self.subscription, "skip"),
            "The order before was skipped: you can skip one order at a time.",
        )

    def test_owner_renews_by_signing_the_renewal_quotation(self):
        self.subscription.max_periods = 24
        self._login(self.owner)
        response = self.url_open(
            f"/my/subscriptions/{self.subscription.id}/renew",
            data={"csrf_token": self.csrf_token},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        quotation = self.subscription.order_ids.filtered("retention_subscription_renewal")
        self.assertEqual(len(quotation), 1)
        self.assertTrue(response.headers["Location"].startswith(quotation.get_portal_url()))
        page = self._page(f"/my/subscriptions/{self.subscription.id}")
        self.assertTrue(page.xpath("//a[hasclass('o_retention_sign_renewal')]"))
        with file_open("web/static/img/logo.png", "rb") as logo:
            signature = base64.b64encode(logo.read()).decode()
        result = self.make_jsonrpc_request(
            f"/my/orders/{quotation.id}/accept",
            {
                "name": "Portal Owner",
                "signature": signature,
                "access_token": quotation.access_token,
            },
        )
        self.assertNotIn("error", result)
        quotation.invalidate_recordset()
        self.subscription.invalidate_recordset()
        self.assertEqual(quotation.state, "sale")
        self.assertEqual(self.subscription.max_periods, 48)
        self.assertEqual(self.subscription._term_end(), date(2030, 1, 1))
