import unittest

from odoo.service import server
from odoo.tests import tagged

from .common import ShopPointsCase


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' browser step"
)
class TestShopPointsTour(ShopPointsCase):
    def test_customer_pays_part_of_the_cart_with_points(self):
        self.partner.write({"country_id": self.env.ref("base.be").id, "phone": "+32 2 555 00 00"})
        self._demo_provider()
        order = self._cart(100.0)
        self.start_tour("/shop/cart", "retention_shop_points_tour", login=self.user.login)
        self.env.invalidate_all()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.amount_total, 70.0)
        own = self.env["retention.points.entry"].search(
            [("card_id", "=", self.card.id), ("order_id", "=", order.id)]
        )
        self.assertEqual(
            sorted(own.mapped(lambda entry: (entry.kind, entry.points))),
            [("earn", 100.0), ("spend", -300.0)],
        )
        self.assertEqual(self.card.points, 500 - 300 + 100)
        self.assertLedgerExact(self.card)
