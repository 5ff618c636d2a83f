import unittest
from datetime import timedelta

from odoo import Command
from odoo.service import server
from odoo.tests import tagged

from .test_portal_routes_tour import SubscriptionPortalCase
from .test_subscription_billing import demo_token, require_payment_demo


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestSubscriptionRecurrenceRoutes(SubscriptionPortalCase):
    """The customer changes their subscription in the portal: quantity,
    payment method and recurrence in the browser; the recurrence route's
    access rules over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "retention_portal_change_recurrence": True,
                "retention_portal_recurrences": "1 month, 3 months, 1 year",
            }
        )

    def _future_subscription(self, partner, **values):
        """Starting in 10 days: nothing is due, so everything may change."""
        subscription = self.env["retention.subscription"].create(
            {
                "partner_id": partner.id,
                "date_start": self.subscription._today() + timedelta(days=10),
                "line_ids": [Command.create({"product_id": self.coffee.id, "price_unit": 20.0})],
                **values,
            }
        )
        subscription.action_activate()
        return subscription

    def test_customer_changes_quantity_payment_method_and_recurrence_in_the_browser(self):
        require_payment_demo(self.env)
        self.env.ref("payment.payment_provider_demo").write(
            {"state": "test", "company_id": self.company.id}
        )
        old = demo_token(self.env, self.owner_partner, "done", payment_details="1111")
        new = demo_token(self.env, self.owner_partner, "done", payment_details="2222")
        subscription = self._future_subscription(
            self.owner_partner, invoice_policy="posted", payment_token_id=old.id
        )
        self.start_tour(
            f"/my/subscriptions/{subscription.id}",
            "retention_subscription_customer_tour",
            login=self.owner.login,
        )
        subscription.invalidate_recordset()
        self.assertEqual(subscription.line_ids.quantity, 3.0)
        self.assertEqual(subscription.payment_token_id, new)
        self.assertEqual((subscription.interval, subscription.interval_unit), (3, "month"))
        self.assertEqual(subscription.mrr, 20.0)  # 3 x 20.00 a quarter
        logged = subscription.message_ids.filtered(
            lambda message: (
                "Payment method changed by the customer" in (message.body or "")
                or "Recurrence changed" in (message.body or "")
            )
        )
        self.assertEqual(len(logged), 2)
        self.assertEqual(logged.author_id, self.owner_partner)

    def test_owner_changes_the_recurrence_among_the_offered_ones(self):
        subscription = self._future_subscription(self.owner_partner)
        self._login(self.owner)
        page = self._page(f"/my/subscriptions/{subscription.id}")
        self.assertEqual(
            page.xpath("//select[@name='recurrence']/option/@value"),
            ["1 month", "3 month", "1 year"],
        )
        self.assertEqual(
            page.xpath("//select[@name='recurrence']/option[@selected]/@value"), ["1 month"]
        )
        self.assertEqual(
            self._post(subscription, "recurrence", recurrence="2 month"),
            "This recurrence is not offered. You can choose: Every month, Every 3 months, "
            "Every year.",
        )
        self.assertEqual(
            self._post(subscription, "recurrence", recurrence="often"),
            ("Choose one of the recurrences offered."),
        )
        self.assertEqual(subscription.interval, 1)
        self.assertIsNone(self._post(subscription, "recurrence", recurrence="1 year"))
        self.assertEqual((subscription.interval, subscription.interval_unit), (1, "year"))
        logged = subscription.message_ids.filtered(
            lambda message: "Recurrence changed" in (message.body or "")
        )
        self.assertEqual(logged.author_id, self.owner_partner)

    def test_strangers_paused_subscriptions_and_a_company_that_does_not_allow_it(self):
        mine = self._future_subscription(self.owner_partner)
        others = self._future_subscription(self.other_partner)
        self._login(self.owner)
        response = self.url_open(
            f"/my/subscriptions/{others.id}/recurrence",
            data={"csrf_token": self.csrf_token, "recurrence": "1 year"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertEqual(others.interval_unit, "month")
        mine.action_pause()
        page = self._page(f"/my/subscriptions/{mine.id}")
        self.assertFalse(page.xpath("//form[contains(@action, '/recurrence')]"))
        self.assertEqual(
            self._post(mine, "recurrence", recurrence="1 year"),
            "Only running subscriptions can change their recurrence.",
        )
        mine.action_resume()
        self.company.retention_portal_change_recurrence = False
        page = self._page(f"/my/subscriptions/{mine.id}")
        self.assertFalse(page.xpath("//form[contains(@action, '/recurrence')]"))
        self.assertEqual(
            self._post(mine, "recurrence", recurrence="1 year"),
            "Contact us to change your subscription.",
        )
        self.assertEqual((mine.interval, mine.interval_unit), (1, "month"))
