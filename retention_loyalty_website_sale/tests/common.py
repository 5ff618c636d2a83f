from lxml import html

from odoo import Command, http
from odoo.tests import HttpCase, new_test_user

from odoo.addons.retention_loyalty.tests.common import make_points_program, make_product


class ShopPointsMixin:
    """A shop customer with 500 points of a loyalty program earning 1 point
    per unit of currency, where a point is worth 0.10 as payment."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.website = cls.env.ref("website.default_website")
        cls.website.company_id = cls.company
        cls.program = make_points_program(
            cls.env,
            "Shop Points",
            {"discount_mode": "per_point", "discount": 0.1, "required_points": 1},
        )
        cls.program.retention_redeem_reward_id = cls.program.reward_ids
        cls.product = make_product(cls.env, "Shop Coffee", 100.0)
        cls.product.is_published = True
        cls.user = new_test_user(
            cls.env,
            login="rl_shop_customer",
            groups="base.group_portal",
            name="Shop Customer",
            email="shop.customer@example.com",
        )
        cls.partner = cls.user.partner_id
        cls.partner.write({"street": "1 Shop Street", "city": "Brussels", "zip": "1000"})
        cls.card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.partner.id, "points": 500}
        )

    def _cart(self, amount=100.0, partner=None, website=None):
        """A cart as the shop makes it for a signed-in customer."""
        order = self.env["sale.order"].create(
            {
                "partner_id": (partner or self.partner).id,
                "website_id": (website or self.website).id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 1, "price_unit": amount}
                    )
                ],
            }
        )
        order._update_programs_and_rewards()
        return order

    def _entries(self, card=None):
        return self.env["retention.points.entry"].search(
            [("card_id", "=", (card or self.card).id)], order="id"
        )

    def assertLedgerExact(self, card):
        card.invalidate_recordset()
        entries = self._entries(card)
        self.assertAlmostEqual(card.points, sum(entries.mapped("points")), places=2)
        self.assertAlmostEqual(sum(entries.mapped("remaining")), max(card.points, 0.0), places=2)

    def _demo_provider(self):
        provider = self.env.ref("payment.payment_provider_demo")
        provider.write({"state": "test", "company_id": self.company.id, "is_published": True})
        return provider


class ShopPointsCase(ShopPointsMixin, HttpCase):
    """The shop's customer over HTTP: Odoo's runner serves these tests (the
    harness' browser step), pytest-odoo has no HTTP server."""

    def _request(self, url, data=None):
        """GET (or POST ``data`` with the session's CSRF token) as the shop's
        visitor; the test's records are read afresh afterwards."""
        self.env.flush_all()
        if data is not None:
            data = {"csrf_token": self._csrf(), **data}
        response = self.url_open(url, data=data)
        self.env.invalidate_all()
        return response

    def _csrf(self):
        return http.Request.csrf_token(self)

    @staticmethod
    def _alerts(response):
        """The texts of the error alerts of a shop page."""
        tree = html.fromstring(response.content)
        return [
            " ".join(alert.text_content().split())
            for alert in tree.xpath("//div[contains(@class, 'alert-danger')]")
        ]

    def _use_points(self, points):
        return self._request("/shop/retention/points", {"points": str(points)})

    def _pay_online(self, order):
        """Pay the signed-in customer's cart with the demo provider as the
        checkout does, and let the payment post-processing confirm it."""
        provider = self._demo_provider()
        self.env.flush_all()
        processing = self.make_jsonrpc_request(
            f"/shop/payment/transaction/{order.id}",
            {
                "access_token": order._portal_ensure_token(),
                "amount": order.amount_total,
                "provider_id": provider.id,
                "payment_method_id": self.env.ref("payment_demo.payment_method_demo").id,
                "token_id": None,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": "/shop/payment/validate",
            },
        )
        self.make_jsonrpc_request(
            "/payment/demo/simulate_payment",
            {
                "reference": processing["reference"],
                "payment_details": "4242",
                "simulated_state": "done",
            },
        )
        self.make_jsonrpc_request("/payment/status/poll", {})
        self.env.invalidate_all()
        return self.env["payment.transaction"].search([("reference", "=", processing["reference"])])
