from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..hooks import post_init_hook
from .common import PointsCardMixin, make_order, make_points_program, make_product


class TrustCase(PointsCardMixin, TransactionCase):
    """The setup of issue 13: an automatic loyalty program on current and
    future orders, 1 point per unit of currency, a 100-point reward worth 10
    off, points expiring 6 months after they are earned; a product at 200
    without tax."""

    entries_order = "id"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.program = make_points_program(
            cls.env,
            "Trust Points",
            {"discount_mode": "per_order", "discount": 10, "required_points": 100},
            retention_expiry_policy="earned",
            retention_expiry_months=6,
        )
        cls.reward = cls.program.reward_ids
        cls.product = make_product(cls.env, "Trust Espresso Machine", 200.0, invoice_policy="order")
        cls.customer = cls.env["res.partner"].create(
            {"name": "New Customer", "email": "new@example.com"}
        )
        cls.salesman = new_test_user(
            cls.env, login="rl_trust_salesman", groups="sales_team.group_sale_salesman"
        )

    def _quotation(self, amount=200.0, partner=None, **values):
        return make_order(
            self.env, partner or self.customer, self.product, amount, confirm=False, **values
        )

    def _confirmed(self, amount=200.0, partner=None, **values):
        order = self._quotation(amount, partner, **values)
        order.action_confirm()
        return order

    def _credit_note(self, order, share=1.0):
        invoice = order._create_invoices()
        invoice.action_post()
        refund = invoice._reverse_moves()
        for line in refund.invoice_line_ids:
            line.price_unit *= share
        refund.action_post()
        return refund

    def assertLedgerExact(self, card):
        card.invalidate_recordset()
        entries = self._entries(card)
        self.assertAlmostEqual(card.points, sum(entries.mapped("points")), places=2)
        self.assertAlmostEqual(sum(entries.mapped("remaining")), max(card.points, 0.0), places=2)


@tagged("post_install", "-at_install")
class TestSameOrderReward(TrustCase):
    """Defect 1: a reward paid with the points the order itself earns."""

    def _claim(self, order):
        order._update_programs_and_rewards()
        claimable = order._get_claimable_rewards()
        coupon = next(iter(claimable))
        self.assertIn(self.reward, claimable[coupon])
        self.assertFalse(order._apply_program_reward(self.reward, coupon))
        return coupon

    def _assert_nets_like_odoo(self, order):
        card = self._card(order.partner_id)
        self.assertEqual(order.state, "sale")
        self.assertEqual(card.points, 100)  # 200 earned, 100 spent: what sale_loyalty leaves
        self.assertEqual(
            [(entry.kind, entry.points) for entry in self._entries(card)],
            [("earn", 200), ("spend", -100)],
        )
        self.assertLedgerExact(card)

    def test_back_office_reward_confirms(self):
        order = self._quotation()
        self._claim(order)
        self.assertAlmostEqual(order.amount_total, 190.0)
        order.action_confirm()
        self._assert_nets_like_odoo(order)
        order._action_cancel()
        card = self._card()
        self.assertEqual(card.points, 0)  # as sale_loyalty: the net 100 go back
        self.assertLedgerExact(card)

    def test_promotions_button_reward_confirms(self):
        order = self._quotation(user_id=self.salesman.id).with_user(self.salesman)
        self.assertTrue(order.action_open_reward_wizard())  # one reward: applied at once
        self.assertEqual(order.order_line.filtered("reward_id").points_cost, 100)
        order.action_confirm()
        self._assert_nets_like_odoo(order)

    def test_reward_wizard_reward_confirms(self):
        order = self._quotation(user_id=self.salesman.id).with_user(self.salesman)
        order._update_programs_and_rewards()
        wizard = (
            self.env["sale.loyalty.reward.wizard"]
            .with_user(self.salesman)
            .create({"order_id": order.id, "selected_reward_id": self.reward.id})
        )
        wizard.action_apply()
        order.action_confirm()
        self._assert_nets_like_odoo(order)

    def test_website_cart_paid_online_confirms(self):
        shopper = new_test_user(self.env, login="rl_trust_shopper", groups="base.group_portal")
        public = self.env.ref("base.public_user")
        # The cart is handled as the website does: sudo, for a portal customer.
        order = self._quotation(partner=shopper.partner_id).with_user(public).sudo()
        self._claim(order)
        # The payment transaction confirms the order as the public user's sudo.
        order.with_context(send_email=True).action_confirm()
        self._assert_nets_like_odoo(order)


@tagged("post_install", "-at_install")
class TestClientContextIsInert(TrustCase):
    """Defect 4: what a client puts in the context never posts to the ledger."""

    def test_hostile_context_keys_do_not_change_a_balance(self):
        order = self._confirmed()
        card = self._card()
        hostile_contexts = [
            {"retention_ledger_posting": 1},
            {"retention_points_origin": {"event": "confirm", "order_ids": [order.id]}},
            {"retention_points_origin": {"event": "reward", "order_ids": [order.id]}},
            {
                "retention_ledger_posting": 1,
                "retention_points_origin": {"event": "cancel", "order_ids": [order.id]},
                "retention_points_reason": "Friend",
            },
        ]
        for context in hostile_contexts:
            with self.subTest(context=context), self.assertRaises(UserError):
                card.with_user(self.salesman).with_context(**context).write({"points": 1000})
        card.invalidate_recordset()
        self.assertEqual(card.points, 200)
        self.assertEqual(len(self._entries(card)), 1)
        self.assertLedgerExact(card)

    def test_salesperson_cannot_make_points_from_a_reward_line(self):
        order = self._quotation(user_id=self.salesman.id).with_user(self.salesman)
        order.action_open_reward_wizard()
        order.action_confirm()
        card = self._card()
        reward_line = order.order_line.filtered("reward_id")
        self.assertEqual(card.points, 100)
        for context in ({}, {"retention_points_origin": {"event": "reward"}}):
            with self.subTest(context=context), self.assertRaises(UserError):
                reward_line.with_context(**context).write({"points_cost": -900})
        with self.assertRaises(UserError):
            self.env["sale.order.line"].with_user(self.salesman).create(
                {
                    "order_id": order.id,
                    "product_id": reward_line.product_id.id,
                    "reward_id": self.reward.id,
                    "coupon_id": card.id,
                    "points_cost": -900,
                    "name": "Forged reward",
                    "price_unit": 0,
                    "tax_id": [Command.clear()],
                }
            )
        card.invalidate_recordset()
        self.assertEqual(card.points, 100)
        self.assertEqual(reward_line.points_cost, 100)
        self.assertLedgerExact(card)

    def test_a_card_with_points_does_not_move_into_the_ledger_unrecorded(self):
        coupons = self.env["loyalty.program"].create(
            {"name": "Trust Coupons", "program_type": "coupons", "trigger": "with_code"}
        )
        coupon = self.env["loyalty.card"].create(
            {"program_id": coupons.id, "partner_id": self.customer.id, "points": 500}
        )
        with self.assertRaises(UserError):
            coupon.with_user(self.salesman).write({"program_id": self.program.id})
        self.assertEqual(coupon.program_id, coupons)
        # An administrator may: the balance opens the card's ledger.
        coupon.write({"program_id": self.program.id})
        self.assertRecordValues(
            self._entries(coupon), [{"kind": "opening", "points": 500, "remaining": 500}]
        )
        self.assertLedgerExact(coupon)

    def test_update_balance_reason_comes_from_the_wizard_only(self):
        order = self._confirmed()
        card = self._card()
        self.env["loyalty.card.update.balance"].with_context(
            retention_points_reason="Forged"
        ).create(
            {"card_id": card.id, "new_balance": 230, "description": "Goodwill"}
        ).action_update_card_point()
        self.assertRecordValues(
            self._entries(card)[-1], [{"kind": "adjust", "points": 30, "description": "Goodwill"}]
        )
        self.assertEqual(order.state, "sale")


@tagged("post_install", "-at_install")
class TestExpiredPointsAreNotTakenTwice(TrustCase):
    """Defect 5: points of an order that expired are not taken back again."""

    def _expired_order_and_newer(self):
        with freeze_time("2026-01-10"):
            old = self._confirmed(100.0)
        with freeze_time("2026-07-10"):
            self.assertEqual(self.env["loyalty.card"]._cron_expire_points(), 1)
        with freeze_time("2026-07-15"):
            self._confirmed(50.0)
        card = self._card()
        card.invalidate_recordset()
        self.assertEqual(card.points, 50)
        return old, card

    def test_cancelling_an_order_whose_points_expired(self):
        old, card = self._expired_order_and_newer()
        with freeze_time("2026-07-20"):
            old._action_cancel()
        self.assertEqual(card.points, 50)
        self.assertIn("100", card.message_ids[0].body)
        self.assertIn("expired", card.message_ids[0].body)
        self.assertLedgerExact(card)

    def test_credit_note_of_an_order_whose_points_expired_under_block_policy(self):
        self.program.retention_negative_policy = "block"
        old, card = self._expired_order_and_newer()
        with freeze_time("2026-07-20"):
            refund = self._credit_note(old)
        self.assertEqual(refund.state, "posted")
        self.assertEqual(card.points, 50)
        self.assertIn("expired", card.message_ids[0].body)
        self.assertLedgerExact(card)

    def test_partly_spent_then_expired_takes_back_only_the_spent_part(self):
        with freeze_time("2026-01-10"):
            old = self._confirmed(100.0)
        card = self._card()
        with freeze_time("2026-02-01"):
            self.env["retention.points.adjust.wizard"].create(
                {"card_id": card.id, "points": -30, "reason": "Gift in shop"}
            ).action_apply()
        with freeze_time("2026-07-10"):
            self.env["loyalty.card"]._cron_expire_points()  # the 70 left expire
        with freeze_time("2026-07-15"):
            self._confirmed(50.0)
            old._action_cancel()
        # Of the 100 points, 70 expired; the 30 spent are taken back.
        self.assertEqual(card.points, 20)
        self.assertLedgerExact(card)


@tagged("post_install", "-at_install")
class TestOrdersBeforeTheInstall(TrustCase):
    """Defect 6: orders confirmed before the install are reversed."""

    def _reinstall_ledger(self, cards):
        """As on a database where the addon was installed after these orders."""
        self.env.flush_all()
        self.env.cr.execute(
            "DELETE FROM retention_points_entry WHERE card_id = ANY(%s)", [cards.ids]
        )
        self.env.invalidate_all()
        post_init_hook(self.env)

    def test_ledger_is_opened_per_order_and_reversed_like_odoo(self):
        with freeze_time("2025-03-01"):
            first = self._confirmed(100.0)
            second = self._quotation(300.0)
            second._update_programs_and_rewards()
            second._apply_program_reward(self.reward, self._card())
            second.action_confirm()
        card = self._card()
        self.assertEqual(card.points, 100 + 300 - 100)
        with freeze_time("2026-06-30"):
            self._reinstall_ledger(card)
            entries = self._entries(card)
            self.assertEqual(
                [(entry.kind, entry.points, entry.order_id) for entry in entries],
                [("earn", 100, first), ("earn", 300, second), ("spend", -100, second)],
            )
            # Opened lots get a full term from the install.
            self.assertEqual(
                set(entries.filtered("remaining").mapped("expiry_date")), {date(2026, 12, 30)}
            )
            self.assertLedgerExact(card)
            first._action_cancel()
            self.assertEqual(card.points, 200)
            self._credit_note(second, 0.5)
            # Half refunded: half the 300 earned go, half the 100 spent come back.
            self.assertEqual(card.points, 200 - 150 + 50)
        self.assertLedgerExact(card)

    def test_balance_beyond_the_orders_is_an_opening_entry(self):
        order = self._confirmed(100.0)
        card = self._card()
        self.env["loyalty.card.update.balance"].create(
            {"card_id": card.id, "new_balance": 130, "description": "Old goodwill"}
        ).action_update_card_point()
        self._reinstall_ledger(card)
        self.assertEqual(
            [(entry.kind, entry.points, entry.order_id) for entry in self._entries(card)],
            [("opening", 30, self.env["sale.order"]), ("earn", 100, order)],
        )
        post_init_hook(self.env)  # runs once
        self.assertEqual(len(self._entries(card)), 2)
        self.assertLedgerExact(card)

    def test_an_order_without_ledger_entries_is_cancelled_like_odoo(self):
        """A database opened with one balance entry (before per-order
        opening): cancelling an older order takes what Odoo takes."""
        order = self._confirmed(100.0)
        self._confirmed(40.0)
        card = self._card()
        self.env.flush_all()
        self.env.cr.execute("DELETE FROM retention_points_entry WHERE card_id = %s", [card.id])
        self.env.invalidate_all()
        card._retention_open_ledger(kind="opening")
        order._action_cancel()
        self.assertEqual(card.points, 40)
        self.assertRecordValues(
            self._entries(card)[-1], [{"kind": "cancel", "points": -100, "order_id": order.id}]
        )
        self.assertLedgerExact(card)


@tagged("post_install", "-at_install")
class TestUsePointsApplies(TrustCase):
    """Defect 8: "Use Points" offers only cards Odoo applies to the order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.per_point = cls.env["loyalty.reward"].create(
            {
                "program_id": cls.program.id,
                "reward_type": "discount",
                "discount_mode": "per_point",
                "discount": 0.1,
                "required_points": 1,
                "discount_applicability": "order",
            }
        )
        cls.program.retention_redeem_reward_id = cls.per_point
        cls.company_partner = cls.env["res.partner"].create(
            {"name": "Trust Corp", "is_company": True}
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Trust Buyer", "parent_id": cls.company_partner.id}
        )

    def _wizard(self, order, **values):
        return (
            self.env["retention.points.redeem.wizard"]
            .with_context(default_order_id=order.id)
            .create(values)
        )

    def test_a_contact_card_is_not_offered_on_the_company_order(self):
        self._confirmed(100.0, partner=self.contact)
        contact_card = self._card(self.contact)
        order = self._quotation(100.0, partner=self.company_partner)
        wizard = self._wizard(order, points=10)
        self.assertFalse(wizard.allowed_card_ids)
        self.assertFalse(wizard.card_id)
        # Forcing the card through the client changes nothing either.
        forced = self._wizard(order, points=10, card_id=contact_card.id)
        with self.assertRaises(UserError):
            forced.action_apply()
        self.assertFalse(order.order_line.filtered("reward_id"))
        self.assertFalse(order.retention_points_to_redeem)
        self.assertAlmostEqual(order.amount_total, 100.0)

    def test_a_company_card_is_not_offered_on_the_contact_order(self):
        self._confirmed(100.0, partner=self.company_partner)
        order = self._quotation(100.0, partner=self.contact)
        self.assertFalse(self._wizard(order, points=10).allowed_card_ids)

    def test_the_own_card_applies_and_discounts(self):
        self._confirmed(100.0)
        order = self._quotation(100.0)
        wizard = self._wizard(order, points=50)
        self.assertEqual(wizard.card_id, self._card())
        wizard.action_apply()
        self.assertAlmostEqual(order.amount_total, 95.0)
        self.assertEqual(order.order_line.filtered("reward_id").points_cost, 50)

    def test_points_are_valued_in_the_order_currency(self):
        self._confirmed(100.0)  # 100 points worth 0.10 each in company currency
        currency = self.env["res.currency"].create({"name": "TRU", "symbol": "T", "rounding": 0.01})
        self.env["res.currency.rate"].create(
            {"currency_id": currency.id, "rate": 2.0, "name": "2020-01-01"}
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "Trust TRU", "currency_id": currency.id}
        )
        order = self._quotation(5.0, pricelist_id=pricelist.id)
        self.assertEqual(order.currency_id, currency)
        wizard = self._wizard(order, points=25)
        # A point is worth 0.20 TRU: 5.00 TRU take 25 points, not 50.
        self.assertEqual(wizard.max_points, 25)
        self.assertAlmostEqual(wizard.amount, 5.0)
        with self.assertRaises(UserError):
            self._wizard(order, points=50).action_apply()
        wizard.action_apply()
        self.assertAlmostEqual(order.amount_total, 0.0)
        self.assertEqual(order.order_line.filtered("reward_id").points_cost, 25)


@tagged("post_install", "-at_install")
class TestPointsReviewItems(TrustCase):
    def test_tag_multiplier_is_for_administrators_and_per_company(self):
        contact_manager = new_test_user(
            self.env,
            login="rl_trust_contacts",
            groups="base.group_user,base.group_partner_manager,sales_team.group_sale_salesman",
        )
        tag = self.env["res.partner.category"].create({"name": "Trust VIP"})
        with self.assertRaises(AccessError):
            tag.with_user(contact_manager).write({"retention_points_multiplier": 5.0})
        with self.assertRaises(AccessError):
            self.env["res.partner.category"].with_user(contact_manager).create(
                {"name": "Forged VIP", "retention_points_multiplier": 5.0}
            )
        with self.assertRaises(AccessError):
            self.env["res.partner.category"].with_user(contact_manager).with_context(
                default_retention_points_multiplier=5.0
            ).create({"name": "Forged VIP"})
        # Tags themselves stay theirs to make and edit.
        tag.with_user(contact_manager).write({"name": "Trust VIPs"})
        self.env["res.partner.category"].with_user(contact_manager).create({"name": "Plain"})
        tag.retention_points_multiplier = 2.0
        self.customer.category_id = tag
        self.assertEqual(self.customer._retention_points_multiplier(self.company), 2.0)
        other_company = self.env["res.company"].create({"name": "Trust Other Co"})
        self.assertEqual(self.customer._retention_points_multiplier(other_company), 1.0)
        self._confirmed(100.0, user_id=self.salesman.id)
        self.assertEqual(self._card().points, 200)

    def test_points_balance_follows_the_access_to_cards(self):
        self._confirmed(100.0)
        retention_user = new_test_user(
            self.env,
            login="rl_trust_retention_only",
            groups="base.group_user,retention_loyalty.group_retention_user",
        )
        self.assertEqual(self.customer.with_user(self.salesman).retention_points_balance, 100)
        as_user = self.customer.with_user(retention_user)
        self.assertEqual(as_user.retention_points_balance, 0)
        self.assertFalse(as_user.retention_points_next_expiry_date)

    def test_a_new_expiry_rule_gives_notice_before_old_points_expire(self):
        self.program.retention_expiry_policy = "never"
        self.program.retention_reminder_days = 30
        with freeze_time("2024-01-10"):
            self._confirmed(100.0)
        with freeze_time("2026-05-01"):
            self._confirmed(40.0)
        card = self._card()
        old_lot, new_lot = self._entries(card)
        with freeze_time("2026-06-30"):
            self.program.write({"retention_expiry_policy": "earned", "retention_expiry_months": 12})
            self.assertEqual(old_lot.expiry_date, date(2026, 7, 30))
            self.assertEqual(new_lot.expiry_date, date(2027, 5, 1))
            self.assertEqual(self.env["loyalty.card"]._cron_expire_points(), 0)
            self.env["loyalty.card"]._cron_send_expiry_reminders()
        self.assertTrue(old_lot.reminder_sent)
        with freeze_time("2026-07-30"):
            self.assertEqual(self.env["loyalty.card"]._cron_expire_points(), 1)
        card.invalidate_recordset()
        self.assertEqual(card.points, 40)

    def test_points_added_to_a_confirmed_order_are_earned_on_it(self):
        """A program that starts after the confirmation adds its points when
        the salesperson updates the rewards of the confirmed order."""
        order = self._confirmed(100.0, user_id=self.salesman.id)
        welcome = self.env["loyalty.program"].create(
            {
                "name": "Trust Welcome",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "rule_ids": [
                    Command.create({"reward_point_mode": "order", "reward_point_amount": 25})
                ],
                "reward_ids": [
                    Command.create({"reward_type": "discount", "required_points": 1000})
                ],
            }
        )
        order.with_user(self.salesman).action_open_reward_wizard()
        welcome_card = self.env["loyalty.card"].search(
            [("program_id", "=", welcome.id), ("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(welcome_card.points, 25)
        self.assertRecordValues(
            self._entries(welcome_card), [{"kind": "earn", "points": 25, "order_id": order.id}]
        )
        order._action_cancel()
        self.assertEqual(welcome_card.points, 0)
        self.assertEqual(self._card().points, 0)
        self.assertLedgerExact(welcome_card)

    def test_point_of_sale_changes_are_booked_as_purchases(self):
        """pos_loyalty changes the points (as sudo), then records the order in
        loyalty.history in a second request: the change is an earn or spend."""
        self.program.retention_expiry_policy = "inactivity"
        with freeze_time("2026-01-10"):
            self._confirmed(100.0)
        card = self._card()
        with freeze_time("2026-03-01"):
            pos_card = card.with_user(self.salesman).sudo()
            pos_card.points += 40
            self.env["loyalty.history"].with_user(self.salesman).create(
                {
                    "card_id": card.id,
                    "order_model": "pos.order",
                    "order_id": 4242,
                    "description": "Onsite Shop/0042",
                    "issued": 40,
                    "used": 0,
                }
            )
            pos_card.points -= 60
            self.env["loyalty.history"].with_user(self.salesman).create(
                {
                    "card_id": card.id,
                    "order_model": "pos.order",
                    "order_id": 4243,
                    "description": "Onsite Shop/0043",
                    "issued": 0,
                    "used": 60,
                }
            )
        self.assertEqual(
            [(entry.kind, entry.points, entry.description) for entry in self._entries(card)][1:],
            [("earn", 40, "Onsite Shop/0042"), ("spend", -60, "Onsite Shop/0043")],
        )
        # A purchase in the shop keeps the points alive under the inactivity policy.
        self.assertEqual(self._entries(card)[0].expiry_date, date(2026, 9, 1))
        self.assertLedgerExact(card)

    def test_bonus_campaigns_follow_the_confirmation_date(self):
        self.env["retention.points.campaign"].create(
            {
                "name": "Trust February",
                "program_id": self.program.id,
                "date_from": date(2026, 2, 1),
                "date_to": date(2026, 2, 28),
                "multiplier": 2.0,
            }
        )
        with freeze_time("2026-01-20"):
            in_campaign = self._quotation(100.0)
        with freeze_time("2026-02-20"):
            after_campaign = self._quotation(100.0)
        with freeze_time("2026-02-05"):
            in_campaign.action_confirm()
        with freeze_time("2026-03-05"):
            after_campaign.action_confirm()
        self.assertEqual(in_campaign.retention_points_breakdown["Trust Points"]["total"], 200)
        self.assertEqual(after_campaign.retention_points_breakdown["Trust Points"]["total"], 100)
