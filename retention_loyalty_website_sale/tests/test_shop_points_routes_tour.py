import unittest

from odoo import Command
from odoo.exceptions import UserError
from odoo.service import server
from odoo.tests import JsonRpcException, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.retention_loyalty.tests.common import make_points_program

from .common import ShopPointsCase


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestShopPoints(ShopPointsCase):
    def test_points_used_at_checkout_are_spent_once_when_paid_online(self):
        order = self._cart(100.0)
        self.authenticate(self.user.login, self.user.login)
        page = self._request("/shop/cart")
        self.assertIn("You have", page.text)
        self.assertIn('<strong class="o_retention_points_balance">500</strong>', page.text)
        # 100.00 is worth 1000 points: the balance is the bound.
        self.assertIn('<strong class="o_retention_points_max">500</strong>', page.text)

        page = self._use_points(300)
        self.assertAlmostEqual(order.amount_total, 70.0)
        self.assertEqual(order.retention_points_to_redeem, 300)
        reward_line = order.order_line.filtered("reward_id")
        self.assertRecordValues(
            reward_line,
            [{"reward_id": self.program.retention_redeem_reward_id.id, "points_cost": 300}],
        )
        self.assertIn("used on this order", page.text)
        earned_shown = order.coupon_point_ids.filtered(
            lambda points: points.coupon_id == self.card
        ).points
        self.assertIn(
            f'<strong class="o_retention_points_earned_value">{earned_shown:g}</strong>',
            page.text,
        )

        tx = self._pay_online(order)
        self.assertEqual(tx.state, "done")
        self.assertEqual(order.state, "sale")
        own = self._entries().filtered(lambda entry: entry.order_id == order)
        self.assertEqual(
            sorted(own.mapped(lambda entry: (entry.kind, entry.points))),
            [("earn", earned_shown), ("spend", -300.0)],
        )
        self.assertEqual(self.card.points, 500 - 300 + earned_shown)
        self.assertLedgerExact(self.card)
        # Post-processing again (the cron, the status page) posts nothing more.
        tx._post_process()
        self.assertEqual(len(self._entries()), 3)
        self.assertLedgerExact(self.card)

    def test_too_many_points_or_bad_input_change_nothing(self):
        order = self._cart(20.0)
        self.authenticate(self.user.login, self.user.login)
        for points, message in (
            (501, "Only 500 points are available."),
            (201, "The points would be worth more than the order total."),
            (-5, "The number of points to use must be positive."),
            ("abc", "Enter the number of points to use."),
            ("nan", "Enter the number of points to use."),
            ("1e400", "Enter the number of points to use."),
        ):
            with self.subTest(points=points):
                self.assertEqual(self._alerts(self._use_points(points)), [message])
                self.assertFalse(order.order_line.filtered("reward_id"))
                self.assertFalse(order.retention_points_to_redeem)
                self.assertAlmostEqual(order.amount_total, 20.0)
        self._use_points(200)
        self.assertAlmostEqual(order.amount_total, 0.0)
        # A refused change keeps what was applied.
        self.assertEqual(self._alerts(self._use_points(501)), ["Only 500 points are available."])
        self.assertAlmostEqual(order.amount_total, 0.0)
        self.assertEqual(order.retention_points_to_redeem, 200)
        # The page to go back to stays on this website.
        self.env.flush_all()
        response = self.url_open(
            "/shop/retention/points",
            data={"points": "0", "r": "https://evil.example.com/x", "csrf_token": self._csrf()},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertEqual(response.headers["Location"], "/x")
        self.env.invalidate_all()
        self._use_points(200)
        # 0 gives the points back.
        self._use_points(0)
        self.assertFalse(order.order_line.filtered("reward_id"))
        self.assertFalse(order.retention_points_to_redeem)
        self.assertAlmostEqual(order.amount_total, 20.0)
        self.assertEqual(self.card.points, 500)

    def test_only_the_carts_customer_spends_its_points(self):
        order = self._cart(100.0)
        # Without the session's CSRF token the request is refused.
        self.authenticate(self.user.login, self.user.login)
        self.env.flush_all()
        response = self.url_open("/shop/retention/points", data={"points": "300"})
        self.assertEqual(response.status_code, 400)
        # Another customer's session has another cart (none here): nothing changes.
        intruder = new_test_user(self.env, login="rl_shop_intruder", groups="base.group_portal")
        self.authenticate(intruder.login, intruder.login)
        self._use_points(300)
        # The cart's customer only: the server checks who asks, whatever the caller.
        for user in (intruder, self.env.ref("base.public_user")):
            with self.assertRaisesRegex(UserError, "Sign in to use your loyalty points"):
                order.with_user(user).sudo()._retention_shop_use_points(300, user)
        order.invalidate_recordset()
        self.assertFalse(order.order_line.filtered("reward_id"))
        self.assertFalse(order.retention_points_to_redeem)
        # A confirmed order is not a cart.
        order.action_confirm()
        with self.assertRaisesRegex(UserError, "not yet confirmed"):
            order.sudo()._retention_shop_use_points(300, self.user)

    def test_guest_checkout_earns_no_points_and_does_not_fail(self):
        self.authenticate(None, None)
        self.env.flush_all()
        self.make_jsonrpc_request(
            "/shop/cart/update_json", {"product_id": self.product.id, "add_qty": 1}
        )
        order = self.env["sale.order"].search(
            [("website_id", "=", self.website.id), ("state", "=", "draft")],
            order="id desc",
            limit=1,
        )
        self.assertEqual(order.partner_id, self.website.user_id.partner_id)
        page = self._request("/shop/cart")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("o_retention_points_earned", page.text)
        self.assertNotIn("o_retention_use_points", page.text)
        self.assertEqual(
            self._alerts(self._use_points(10)), ["Sign in to use your loyalty points."]
        )
        self.assertFalse(order.order_line.filtered("reward_id"))
        # The guest gives an address at checkout and the order is confirmed:
        # whatever Odoo gives the new customer is booked in their own ledger.
        guest = self.env["res.partner"].create({"name": "Guest", "email": "guest@example.com"})
        order.partner_id = guest
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        for card in self.env["loyalty.card"].search([("partner_id", "=", guest.id)]):
            self.assertEqual(self._entries(card).mapped("kind"), ["earn"])
            self.assertLedgerExact(card)
        self.assertEqual(self.card.points, 500)

    def _paid_shop_order_with_points(self, points=300):
        order = self._cart(100.0)
        self.authenticate(self.user.login, self.user.login)
        self._use_points(points)
        self._pay_online(order)
        self.assertEqual(order.state, "sale")
        return order

    def _credit_note(self, order):
        """Invoice the order and refund the whole invoice with the reversal wizard."""
        invoice = order._create_invoices()
        invoice.action_post()
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Returned"})
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        refund.action_post()
        return refund

    def test_refunded_shop_order_gives_spent_points_back_and_takes_earned_back(self):
        order = self._paid_shop_order_with_points(300)
        earned = sum(
            self._entries()
            .filtered(lambda entry: entry.kind == "earn" and entry.order_id == order)
            .mapped("points")
        )
        self.assertEqual(earned, 100)  # the program counts the order before points paid
        self._credit_note(order)
        self.assertEqual(self.card.points, 500)
        refunds = self._entries().filtered(lambda entry: entry.move_id)
        self.assertEqual(
            refunds.mapped(lambda entry: (entry.kind, entry.points)),
            [("refund_spent", 300.0), ("refund", -earned)],
        )
        self.assertLedgerExact(self.card)
        order._retention_sync_refunds()
        self.assertEqual(self.card.points, 500)
        self.assertLedgerExact(self.card)

    def test_each_website_spends_the_card_of_its_own_company(self):
        other_company = self.env["res.company"].create({"name": "Second Shop Company"})
        other_website = self.env["website"].create(
            {"name": "Second Shop", "company_id": other_company.id}
        )
        other_program = make_points_program(
            self.env,
            "Second Shop Points",
            {"discount_mode": "per_point", "discount": 0.1, "required_points": 1},
            company_id=other_company.id,
        )
        other_program.retention_redeem_reward_id = other_program.reward_ids
        self.user.write({"company_ids": [Command.link(other_company.id)]})
        other_card = self.env["loyalty.card"].create(
            {"program_id": other_program.id, "partner_id": self.partner.id, "points": 800}
        )
        here = self._cart(100.0)
        there = (
            self.env["sale.order"]
            .with_company(other_company)
            .create(
                {
                    "partner_id": self.partner.id,
                    "website_id": other_website.id,
                    "company_id": other_company.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 1, "price_unit": 100}
                        )
                    ],
                }
            )
        )
        there._update_programs_and_rewards()
        self.assertEqual(here._retention_shop_points_summary()["card"], self.card)
        summary = there._retention_shop_points_summary()
        self.assertEqual((summary["card"], summary["balance"]), (other_card, 800))
        # 600 points: more than this company's card holds, fine on the other.
        with self.assertRaisesRegex(UserError, "Only 500 points are available."):
            here.sudo()._retention_shop_use_points(600, self.user)
        there.sudo()._retention_shop_use_points(600, self.user)
        self.assertEqual(there.order_line.filtered("reward_id").coupon_id, other_card)
        self.assertAlmostEqual(there.amount_total, 40.0)
        there.action_confirm()
        self.assertEqual(self.card.points, 500)
        self.assertEqual(other_card.points, 800 - 600 + 100)  # earned before points paid
        self.assertLedgerExact(other_card)

    def test_payment_is_refused_when_the_points_went_elsewhere(self):
        order = self._cart(100.0)
        self.authenticate(self.user.login, self.user.login)
        self._use_points(300)
        self.assertAlmostEqual(order.amount_total, 70.0)
        # Another tab's order spends 450 of the 500 points meanwhile: 150 are
        # left, and the 100 the cart earns (Odoo lets an order spend them).
        other = self._cart(100.0)
        other.sudo()._retention_shop_use_points(450, self.user)
        other.action_confirm()
        self.assertEqual(self.card.points, 500 - 450 + 100)
        # website_sale_loyalty's check before any payment: "Cannot process
        # payment: applied reward was changed or has expired."
        with (
            self.assertRaisesRegex(JsonRpcException, "ValidationError"),
            mute_logger("odoo.http"),
        ):
            self._pay_online(order)
        self.assertEqual(order.state, "draft")
        self.assertFalse(
            self.env["payment.transaction"].search([("sale_order_ids", "in", order.ids)])
        )
        # Refreshed, the cart spends what is left (250 points: 25.00).
        order._update_programs_and_rewards()
        self.assertAlmostEqual(order.amount_total, 75.0)
        self.assertEqual(order._retention_shop_points_summary()["used"], 250)
        self.assertLedgerExact(self.card)
