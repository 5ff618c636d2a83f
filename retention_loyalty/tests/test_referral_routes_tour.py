import base64
import re
import unittest

from odoo import Command
from odoo.exceptions import AccessError
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import file_open

from .common import make_points_program

CSRF_TOKEN = re.compile(r'csrf_token(?:"\s+value=|:\s*)"([^"]+)"')


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestReferralRoutes(HttpCase):
    """The referral link, sign-up and online acceptance with the code kept
    in the visitor's session, and the customer's own referrals in the portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = make_points_program(
            cls.env,
            "Referral Route Points",
            retention_referrer_points=100,
            retention_referred_points=50,
        )
        cls.referrer = cls.env["res.partner"].create(
            {"name": "Ann Referrer", "email": "ann.routes@example.com"}
        )
        cls.referrer_user = new_test_user(
            cls.env,
            login="rl_referral_ann",
            groups="base.group_portal",
            partner_id=cls.referrer.id,
            email="ann.routes@example.com",
        )
        cls.code = cls.referrer._retention_referral_codes()[cls.referrer.id]
        cls.env["ir.config_parameter"].sudo().set_param("auth_signup.invitation_scope", "b2c")
        cls.Referral = cls.env["retention.referral"]

    def _landing(self):
        return "/shop" if "website_sale" in self.env.registry._init_modules else "/web/signup"

    def test_the_link_keeps_the_code_and_sign_up_records_the_referral(self):
        response = self.url_open(f"/referral/{self.code.lower()}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(self._landing()))
        self.assertEqual(response.cookies.get("retention_referral"), self.code)

        page = self.url_open("/web/signup")
        token = CSRF_TOKEN.search(page.text).group(1)
        response = self.url_open(
            "/web/signup",
            data={
                "login": "carla.new@example.com",
                "name": "Carla Newcomer",
                "password": "Carla-Newcomer-2026",
                "confirm_password": "Carla-Newcomer-2026",
                "csrf_token": token,
            },
        )
        self.assertEqual(response.status_code, 200)
        partner = self.env["res.users"].search([("login", "=", "carla.new@example.com")]).partner_id
        self.assertTrue(partner, "the sign-up went through")
        self.assertRecordValues(
            self.Referral.search([("referred_id", "=", partner.id)]),
            [
                {
                    "referrer_id": self.referrer.id,
                    "source": "signup",
                    "state": "pending",
                    "first_order_id": False,
                }
            ],
        )

    def test_an_unknown_code_is_not_kept(self):
        response = self.url_open("/referral/ZZZZZZZZZZ", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertNotIn("retention_referral", response.cookies)

    def test_a_quotation_accepted_online_after_the_link_records_the_referral(self):
        customer = self.env["res.partner"].create({"name": "Dan Newcomer"})
        new_test_user(
            self.env,
            login="rl_referral_dan",
            groups="base.group_portal",
            partner_id=customer.id,
            email="dan.routes@example.com",
        )
        product = self.env["product.product"].create(
            {"name": "Route Coffee", "list_price": 80.0, "taxes_id": [Command.clear()]}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "require_signature": True,
                "require_payment": False,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        self.authenticate("rl_referral_dan", "rl_referral_dan")
        self.url_open(f"/referral/{self.code}", allow_redirects=False)
        with file_open("web/static/img/logo.png", "rb") as logo:
            signature = base64.b64encode(logo.read()).decode()
        result = self.make_jsonrpc_request(
            f"/my/orders/{order.id}/accept",
            {"access_token": order._portal_ensure_token(), "name": "Dan", "signature": signature},
        )
        self.assertNotIn("error", result)
        self.assertEqual(order.state, "sale")
        self.assertRecordValues(
            order.retention_referral_id,
            [
                {
                    "referrer_id": self.referrer.id,
                    "referred_id": customer.id,
                    "source": "online",
                    "state": "pending",
                    "reason": False,
                }
            ],
        )

    def test_the_portal_shows_only_the_customers_own_code_and_referrals(self):
        bob = self.env["res.partner"].create(
            {"name": "Bob Newcomer", "email": "bob.private@example.com"}
        )
        self.Referral.create(
            {
                "referrer_id": self.referrer.id,
                "referred_id": bob.id,
                "code": self.code,
                "source": "signup",
            }
        )
        self.authenticate("rl_referral_ann", "rl_referral_ann")
        home = self.url_open("/my").text
        self.assertIn(f"/referral/{self.code}", home)
        page = self.url_open("/my/referrals").text
        self.assertIn(self.code, page)
        self.assertIn("Bob", page)
        self.assertIn("Pending", page)
        self.assertNotIn("Newcomer", page)
        self.assertNotIn("bob.private@example.com", page)

        stranger = self.env["res.partner"].create({"name": "Eve Stranger"})
        stranger_user = new_test_user(
            self.env, login="rl_referral_eve", groups="base.group_portal", partner_id=stranger.id
        )
        self.authenticate("rl_referral_eve", "rl_referral_eve")
        page = self.url_open("/my/referrals").text
        self.assertNotIn("Bob", page)
        self.assertNotIn(self.code, page)
        self.assertIn(stranger._retention_referral_codes()[stranger.id], page)
        # Not through the model either: referrals are read by the portal page only.
        with self.assertRaises(AccessError):
            self.Referral.with_user(stranger_user).search([])
        with self.assertRaises(AccessError):
            self.Referral.with_user(self.referrer_user).search([])
