from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.retention_loyalty.tests.common import inventory_queries, pos_sale_queries

from .common import ShopPointsMixin

# Queries of confirming a shop order paid in part with points, as the payment
# does (under sudo), after a warm-up: the same for a card of one lot and a
# card of many. One of them records the order's incentive costs (the discount
# of the points used) in one statement.
CONFIRM_WITH_POINTS_QUERIES = 63


@tagged("post_install", "-at_install")
class TestShopCheckoutQueries(ShopPointsMixin, TransactionCase):
    def _customer_with_lots(self, login, lots):
        user = new_test_user(self.env, login=login, groups="base.group_portal")
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": user.partner_id.id}
        )
        for _lot in range(lots):
            self.env["loyalty.card"]._retention_post(
                [{"card": card, "kind": "bonus", "points": 20, "description": "Lot"}]
            )
        return user

    def _confirm_queries(self, user, points, budget=None):
        order = self._cart(100.0, partner=user.partner_id)
        order.sudo()._retention_shop_use_points(points, user)
        self.assertEqual(order.retention_points_to_redeem, points)
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        if budget is None:
            order.sudo().action_confirm()
        else:
            with self.assertQueryCount(budget):
                order.sudo().action_confirm()
                self.env.flush_all()
        self.env.flush_all()
        self.assertEqual(order.state, "sale")
        return self.env.cr.sql_log_count - before

    def test_confirming_a_shop_order_with_points_takes_constant_queries(self):
        few = self._customer_with_lots("rl_shop_one_lot", 2)
        many = self._customer_with_lots("rl_shop_many_lots", 40)
        # Warm-up: the first confirmations fill caches.
        self._confirm_queries(self.user, 300)
        self._confirm_queries(few, 10)
        budget = (
            CONFIRM_WITH_POINTS_QUERIES + inventory_queries(self.env) + pos_sale_queries(self.env)
        )
        # 30 points from one lot, 790 points from 40 lots: the same queries.
        self.assertEqual(
            self._confirm_queries(few, 30, budget), self._confirm_queries(many, 790, budget)
        )
