from odoo.tests import TransactionCase, new_test_user, tagged

from .common import ShopPointsMixin


@tagged("post_install", "-at_install")
class TestShopDemoOrders(ShopPointsMixin, TransactionCase):
    """The demo's shop orders are made by the shop's own code: points spent
    by "use N points" (bounded as the cart bounds them), points earned at
    confirmation, and a ledger that adds up."""

    def test_demo_orders_spend_and_earn_through_the_ledger(self):
        second = new_test_user(
            self.env,
            login="rl_shop_demo_second",
            groups="base.group_portal",
            name="Shop Demo Second",
        )
        second_card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": second.partner_id.id, "points": 40}
        )
        orders = self.env["retention.shop.demo"]._create_shop_orders(
            self.website,
            [
                (self.user, [(self.product, 2)], 300),
                (self.user, [(self.product, 1)], 0),
                # Wants more than the balance: spends the 40 points it has.
                (second, [(self.product, 1)], 300),
            ],
        )
        self.assertEqual(orders.mapped("state"), ["sale"] * 3)
        self.assertEqual(orders.website_id, self.website)
        self.assertEqual(
            [order.amount_total for order in orders], [200.0 - 30.0, 100.0, 100.0 - 4.0]
        )
        for order, card, spent in (
            (orders[0], self.card, -300.0),
            (orders[1], self.card, 0.0),
            (orders[2], second_card, -40.0),
        ):
            with self.subTest(order=order.name):
                earned = sum(
                    order.coupon_point_ids.filtered(
                        lambda points, card=card: points.coupon_id == card
                    ).mapped("points")
                )
                self.assertGreater(earned, 0)
                entries = self._entries(card).filtered(
                    lambda entry, order=order: entry.order_id == order
                )
                expected = [("earn", earned)] + ([("spend", spent)] if spent else [])
                self.assertEqual(
                    sorted(entries.mapped(lambda entry: (entry.kind, entry.points))), expected
                )
        for card in (self.card, second_card):
            self.assertLedgerExact(card)
        earned = self._entries().filtered(
            lambda entry: entry.kind == "earn" and entry.order_id in orders
        )
        self.assertEqual(len(earned), 2)
        self.assertEqual(self.card.points, 500.0 - 300.0 + sum(earned.mapped("points")))
