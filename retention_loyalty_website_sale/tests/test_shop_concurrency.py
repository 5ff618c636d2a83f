from psycopg2 import errors

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.retention_loyalty.tests.common import (
    make_points_program,
    make_product,
    own_cursor_env,
)


@tagged("post_install", "-at_install")
class TestShopRedemptionConcurrency(TransactionCase):
    """Two browser tabs (two carts of one customer, as two sessions have)
    spend the same 500 points on 40.00 orders: 400 points each. Both carts
    may show them; only one order can be confirmed with them."""

    def _env(self):
        return own_cursor_env(self)

    def setUp(self):
        super().setUp()
        env = self._env()
        program = make_points_program(
            env,
            "Concurrent Shop Points",
            {"discount_mode": "per_point", "discount": 0.1, "required_points": 1},
        )
        program.retention_redeem_reward_id = program.reward_ids
        product = make_product(env, "Concurrent Shop Coffee", 40.0)
        user = new_test_user(env, login="rl_shop_two_tabs", groups="base.group_portal")
        card = env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": user.partner_id.id, "points": 500}
        )
        website = env.ref("website.default_website")
        orders = env["sale.order"].create(
            [
                {
                    "partner_id": user.partner_id.id,
                    "website_id": website.id,
                    "company_id": website.company_id.id,
                    "order_line": [Command.create({"product_id": product.id})],
                }
                for _tab in range(2)
            ]
        )
        for order in orders:
            order._update_programs_and_rewards()
            order.sudo()._retention_shop_use_points(400, user)
        env.cr.commit()
        self.ids = {
            "program": program.id,
            "product": product.id,
            "user": user.id,
            "card": card.id,
            "orders": orders.ids,
        }
        self.addCleanup(self._remove)

    def _remove(self):
        env = self._env()
        orders = env["sale.order"].browse(self.ids["orders"])
        orders.filtered(lambda order: order.state == "sale")._action_cancel()
        orders.unlink()
        env.cr.execute("DELETE FROM retention_points_entry WHERE card_id = %s", [self.ids["card"]])
        env.cr.execute("DELETE FROM loyalty_history WHERE card_id = %s", [self.ids["card"]])
        env["loyalty.card"].browse(self.ids["card"]).unlink()
        program = env["loyalty.program"].browse(self.ids["program"])
        program.active = False
        program.unlink()
        env["product.product"].browse(self.ids["product"]).product_tmpl_id.unlink()
        user = env["res.users"].browse(self.ids["user"])
        partner = user.partner_id
        user.unlink()
        partner.unlink()
        env.cr.commit()

    def _ledger(self, env):
        env.cr.execute(
            "SELECT c.points, sum(e.points), count(*) FILTER (WHERE e.kind = 'spend') "
            "FROM loyalty_card c JOIN retention_points_entry e ON e.card_id = c.id "
            "WHERE c.id = %s GROUP BY c.points",
            [self.ids["card"]],
        )
        return env.cr.fetchone()

    def test_two_tabs_pay_with_the_same_points_one_wins(self):
        env_a, env_b = self._env(), self._env()
        # B waits for no lock: a request waiting for another would be retried alike.
        env_b.cr.execute("SET lock_timeout = '2s'")
        order_a = env_a["sale.order"].browse(self.ids["orders"][0])
        order_b = env_b["sale.order"].browse(self.ids["orders"][1])
        self.assertEqual((order_a.amount_total, order_b.amount_total), (0.0, 0.0))

        order_a.action_confirm()
        with self.assertRaises(errors.LockNotAvailable), mute_logger("odoo.sql_db"):
            order_b.action_confirm()
            env_b.flush_all()
        env_b.cr.rollback()
        env_a.cr.commit()

        # Odoo retries B's request on fresh data: the points are gone.
        env_b.invalidate_all()
        with self.assertRaisesRegex(ValidationError, "rewards on the sale order is invalid"):
            order_b.action_confirm()
        env_b.cr.rollback()
        env_b.invalidate_all()
        # Paying B online is refused before any payment: Odoo's checkout
        # sees the cart total change once its rewards are brought up to date.
        order_b._update_programs_and_rewards()
        self.assertAlmostEqual(order_b.amount_total, 40.0 - 18.0)  # 140 + 40 earned = 180 points
        user_b = env_b["res.users"].browse(self.ids["user"])
        with self.assertRaisesRegex(UserError, "Only 140 points are available."):
            order_b.sudo()._retention_shop_use_points(400, user_b)
        env_b.cr.rollback()

        check = self._env()
        self.assertEqual(
            check["sale.order"].browse(self.ids["orders"]).mapped("state"), ["sale", "draft"]
        )
        # 500 - 400 spent + 40 earned by A; one spend entry; balance == ledger.
        self.assertEqual(self._ledger(check), (140.0, 140.0, 1))
