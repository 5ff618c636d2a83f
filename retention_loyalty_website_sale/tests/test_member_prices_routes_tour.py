import unittest

from odoo import Command
from odoo.service import server
from odoo.tests import new_test_user, tagged

from odoo.addons.retention_loyalty.tests.common import make_product

from .common import ShopPointsCase


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestMemberPricesOnline(ShopPointsCase):
    """A club's member pricelist (10% off) in the shop."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The public price list comes first: customers get it by default.
        cls.env["product.pricelist"].create({"name": "Standard", "sequence": 1})
        cls.member_pricelist = cls.env["product.pricelist"].create(
            {
                "name": "Members",
                "sequence": 100,
                "selectable": False,
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "3_global",
                            "compute_price": "percentage",
                            "percent_price": 10,
                        }
                    )
                ],
            }
        )
        cls.club = cls.env["retention.club"].create(
            {
                "name": "Coffee Club",
                "policy": "paid",
                "product_id": make_product(cls.env, "Coffee Club year", 50.0).id,
                "duration_months": 12,
                "pricelist_id": cls.member_pricelist.id,
            }
        )
        cls.env["retention.club.membership"].create(
            {"partner_id": cls.partner.id, "club_id": cls.club.id}
        )

    def _add_to_cart(self):
        self.env.flush_all()
        self.make_jsonrpc_request(
            "/shop/cart/update_json", {"product_id": self.product.id, "add_qty": 1}
        )
        self.env.invalidate_all()
        return self.env["sale.order"].search(
            [("website_id", "=", self.website.id), ("state", "=", "draft")],
            order="id desc",
            limit=1,
        )

    def test_a_signed_in_member_shops_at_member_prices(self):
        self.assertEqual(self.partner._retention_current_clubs()[self.partner.id], self.club)
        self.authenticate(self.user.login, self.user.login)
        order = self._add_to_cart()
        self.assertEqual(order.partner_id, self.partner)
        self.assertEqual(order.pricelist_id, self.member_pricelist)
        self.assertAlmostEqual(order.order_line.price_unit, 90.0)
        # The shop page shows the member price too.
        page = self._request(f"/shop/{self.product.product_tmpl_id.id}")
        self.assertIn("90.00", page.text)

    def test_guests_and_other_customers_pay_the_public_price(self):
        other = new_test_user(self.env, login="rl_shop_not_member", groups="base.group_portal")
        for login in (None, other.login):
            with self.subTest(login=login):
                self.authenticate(login, login)
                order = self._add_to_cart()
                self.assertNotEqual(order.pricelist_id, self.member_pricelist)
                self.assertAlmostEqual(order.order_line.price_unit, 100.0)
                # Asking for the member pricelist by its id does not give it.
                self._request(f"/shop/change_pricelist/{self.member_pricelist.id}")
                self.assertNotEqual(order.pricelist_id, self.member_pricelist)
                self.assertAlmostEqual(order.order_line.price_unit, 100.0)
