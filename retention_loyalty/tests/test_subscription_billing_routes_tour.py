import re
import unittest
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import make_product
from .test_subscription_billing import demo_token, require_payment_demo

CSRF_TOKEN = re.compile(r'csrf_token(?:"\s+value=|:\s*)"([^"]+)"')


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestSubscriptionPaymentMethodRoute(HttpCase):
    """The customer picks one of their own saved payment methods for their
    subscription; another customer's subscription or token is not found."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.partner_id.tz = "UTC"
        require_payment_demo(cls.env)
        cls.env.ref("payment.payment_provider_demo").write(
            {"state": "test", "company_id": cls.company.id}
        )
        cls.owner_partner, cls.other_partner = cls.env["res.partner"].create(
            [
                {"name": "Paying Owner", "email": "owner@example.com"},
                {"name": "Paying Stranger", "email": "stranger@example.com"},
            ]
        )
        cls.owner = new_test_user(
            cls.env,
            login="rl_pay_owner",
            groups="base.group_portal",
            partner_id=cls.owner_partner.id,
        )
        cls.stranger = new_test_user(
            cls.env,
            login="rl_pay_stranger",
            groups="base.group_portal",
            partner_id=cls.other_partner.id,
        )
        cls.coffee = make_product(cls.env, "Paid route coffee", 20.0)

    def _subscription(self, partner, token=None):
        subscription = self.env["retention.subscription"].create(
            {
                "partner_id": partner.id,
                "date_start": date(2026, 1, 1),
                "invoice_policy": "posted",
                "payment_token_id": token.id if token else False,
                "line_ids": [Command.create({"product_id": self.coffee.id, "price_unit": 20.0})],
            }
        )
        subscription.action_activate()
        return subscription

    def _login(self, user):
        self.authenticate(user.login, user.login)
        page = self.url_open("/my", allow_redirects=False)
        self.assertEqual(page.status_code, 200)
        self.csrf_token = CSRF_TOKEN.search(page.text).group(1)

    def _choose(self, subscription, token):
        return self.url_open(
            f"/my/subscriptions/{subscription.id}/payment_method",
            data={"csrf_token": self.csrf_token, "token_id": token.id},
            allow_redirects=False,
        )

    def test_the_customer_charges_their_subscription_to_another_own_card(self):
        old = demo_token(self.env, self.owner_partner, "done", payment_details="1111")
        new = demo_token(self.env, self.owner_partner, "done", payment_details="2222")
        subscription = self._subscription(self.owner_partner, old)
        self._login(self.owner)
        page = self.url_open(f"/my/subscriptions/{subscription.id}")
        self.assertIn("o_retention_subscription_payment", page.text)
        self.assertIn("/my/payment_method", page.text)
        response = self._choose(subscription, new)
        self.assertEqual(response.status_code, 303)
        subscription.invalidate_recordset()
        self.assertEqual(subscription.payment_token_id, new)
        message = subscription.message_ids.filtered(
            lambda message: "Payment method changed by the customer" in (message.body or "")
        )
        self.assertEqual(message.author_id, self.owner_partner)

    def test_a_new_card_during_dunning_is_tried_at_once(self):
        refused = demo_token(self.env, self.owner_partner, "error", payment_details="1111")
        good = demo_token(self.env, self.owner_partner, "done", payment_details="2222")
        subscription = self._subscription(self.owner_partner, refused)
        with freeze_time("2026-01-01"):
            subscription._generate_orders()
        charge = subscription.charge_ids
        self.assertEqual(charge.state, "failed")
        self._login(self.owner)
        self.assertEqual(self._choose(subscription, good).status_code, 303)
        charge.invalidate_recordset()
        self.assertEqual(charge.state, "done")
        self.assertIn(charge.invoice_id.payment_state, ("paid", "in_payment"))

    @mute_logger("odoo.http")
    def test_another_customer_subscription_or_token_is_not_found(self):
        own_token = demo_token(self.env, self.owner_partner, "done")
        stranger_token = demo_token(self.env, self.other_partner, "done")
        subscription = self._subscription(self.owner_partner, own_token)
        strangers = self._subscription(self.other_partner, stranger_token)
        self._login(self.owner)
        # Someone else's card for one's own subscription.
        self.assertEqual(self._choose(subscription, stranger_token).status_code, 404)
        # One's own card for someone else's subscription.
        self.assertEqual(self._choose(strangers, own_token).status_code, 404)
        # The stranger sees neither the page's payment form nor the owner's cards.
        self._login(self.stranger)
        self.assertEqual(self._choose(subscription, own_token).status_code, 404)
        (subscription | strangers).invalidate_recordset()
        self.assertEqual(subscription.payment_token_id, own_token)
        self.assertEqual(strangers.payment_token_id, stranger_token)

    @mute_logger("odoo.http")
    def test_a_change_needs_a_post_with_the_csrf_token(self):
        token = demo_token(self.env, self.owner_partner, "done")
        subscription = self._subscription(self.owner_partner)
        self._login(self.owner)
        response = self.url_open(
            f"/my/subscriptions/{subscription.id}/payment_method",
            data={"token_id": token.id},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400)
        subscription.invalidate_recordset()
        self.assertFalse(subscription.payment_token_id)
