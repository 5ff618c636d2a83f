import random
from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..hooks import post_init_hook
from ..models.loyalty_card import ledger_posting
from .common import (
    PointsCardMixin,
    inventory_queries,
    make_order,
    make_points_program,
    make_product,
    pos_sale_queries,
)


class PointsCase(PointsCardMixin, TransactionCase):
    """A loyalty program earning 1 point per unit of currency, where 1 point
    is worth 0.10 as payment, and points expire 6 months after earning."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.program = make_points_program(
            cls.env,
            "Retention Points",
            {"discount_mode": "per_point", "discount": 0.1, "required_points": 1},
            retention_expiry_policy="earned",
            retention_expiry_months=6,
            retention_reminder_days=30,
        )
        cls.program.retention_redeem_reward_id = cls.program.reward_ids[0]
        cls.coffee_category = cls.env["product.category"].create({"name": "Coffee"})
        cls.product = cls.env["product.product"].create(
            {
                "name": "Points Coffee",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
                "categ_id": cls.coffee_category.id,
                "invoice_policy": "order",
            }
        )
        cls.other_product = make_product(cls.env, "Points Mug", 100.0)
        cls.customer = cls.env["res.partner"].create(
            {"name": "Loyal Customer", "email": "loyal@example.com"}
        )
        cls.salesman = new_test_user(
            cls.env, login="rl_points_salesman", groups="sales_team.group_sale_salesman"
        )

    def _quotation(self, amount=100.0, partner=None, product=None, **values):
        return make_order(
            self.env,
            partner or self.customer,
            product or self.product,
            amount,
            confirm=False,
            **values,
        )

    def _confirmed(self, amount=100.0, **values):
        order = self._quotation(amount, **values)
        order.action_confirm()
        return order

    def _refund(self, order, share):
        """Invoice ``order`` and post a credit note for ``share`` of it."""
        invoice = order._create_invoices()
        invoice.action_post()
        refund = invoice._reverse_moves()
        refund.invoice_line_ids.price_unit = invoice.invoice_line_ids.price_unit * share
        refund.action_post()
        return refund

    def _adjust(self, card, points, kind="adjust", reason="Test"):
        return (
            self.env["retention.points.adjust.wizard"]
            .create({"card_id": card.id, "points": points, "kind": kind, "reason": reason})
            .action_apply()
        )

    def assertLedgerExact(self, card):
        """The balance is the sum of the ledger and the lots hold exactly the
        positive balance."""
        card.invalidate_recordset()
        entries = self._entries(card)
        self.assertAlmostEqual(card.points, sum(entries.mapped("points")), places=2)
        self.assertAlmostEqual(sum(entries.mapped("remaining")), max(card.points, 0.0), places=2)
        self.assertTrue(all(entry.remaining >= 0 for entry in entries))


@tagged("post_install", "-at_install")
class TestPointsLedger(PointsCase):
    @freeze_time("2026-01-10")
    def test_confirmation_earns_points_with_expiry(self):
        order = self._confirmed(250.0)
        card = self._card()
        self.assertEqual(card.points, 250)
        entry = self._entries(card)
        self.assertRecordValues(
            entry,
            [
                {
                    "kind": "earn",
                    "points": 250,
                    "remaining": 250,
                    "order_id": order.id,
                    "expiry_date": date(2026, 7, 10),
                }
            ],
        )
        self.assertEqual(card.retention_next_expiry_date, date(2026, 7, 10))
        self.assertEqual(card.retention_next_expiry_points, 250)
        # Odoo's own history keeps being written.
        self.assertEqual(card.history_ids.issued, 250)
        self.assertEqual(self.customer.retention_points_balance, 250)

    def test_cancel_and_reconfirm_keep_the_ledger_exact(self):
        order = self._confirmed(100.0)
        card = self._card()
        order._action_cancel()
        self.assertEqual(card.points, 0)
        order.action_draft()
        order.action_confirm()
        self.assertEqual(card.points, 100)
        self.assertEqual(
            self._entries(card).sorted("id").mapped("kind"), ["earn", "cancel", "earn"]
        )
        self.assertLedgerExact(card)

    def test_refund_takes_back_points_in_proportion_and_is_idempotent(self):
        order = self._confirmed(200.0)
        card = self._card()
        refund = self._refund(order, 0.25)
        self.assertEqual(card.points, 150)
        reversal = self._entries(card).filtered(lambda entry: entry.kind == "refund")
        self.assertRecordValues(reversal, [{"points": -50, "move_id": refund.id}])
        self.assertLedgerExact(card)
        # Undoing the credit note gives the points back; posting it again takes them again.
        refund.button_draft()
        self.assertEqual(card.points, 200)
        refund.action_post()
        self.assertEqual(card.points, 150)
        order._retention_sync_refunds()
        self.assertEqual(card.points, 150)
        self.assertLedgerExact(card)

    def test_refund_of_spent_points_follows_the_program_policy(self):
        order = self._confirmed(100.0)
        card = self._card()
        self._adjust(card, -100, reason="Gift collected in shop")
        self.assertEqual(card.points, 0)
        # Blocking: the credit note cannot be posted and nothing is written.
        self.program.retention_negative_policy = "block"
        invoice = order._create_invoices()
        invoice.action_post()
        refund = invoice._reverse_moves()
        with self.assertRaises(UserError) as caught:  # rolls back to a savepoint
            refund.action_post()
        self.assertIn("does not allow a negative balance", str(caught.exception))
        self.env.invalidate_all()
        self.assertEqual(refund.state, "draft")
        self.assertFalse(self._entries(card).filtered(lambda entry: entry.kind == "refund"))
        # Allowing: the balance goes negative and the next points repay it.
        self.program.retention_negative_policy = "allow_negative"
        refund.action_post()
        self.assertEqual(card.points, -100)
        self._confirmed(150.0)
        self.assertEqual(card.points, 50)
        newest = self._entries(card).sorted("id")[-1]
        self.assertRecordValues(newest, [{"kind": "earn", "points": 150, "remaining": 50}])
        self.assertLedgerExact(card)

    def test_random_sequences_leave_the_ledger_exact(self):
        """Confirm, cancel, reset and refund orders in random order: after
        every step the balance is what the confirmed orders still hold."""
        rng = random.Random(2026)
        orders = [self._quotation(amount) for amount in (80.0, 120.0, 45.5)]
        refunded_share = dict.fromkeys(orders, 0.0)
        for _step in range(25):
            order = rng.choice(orders)
            action = rng.choice(["confirm", "cancel", "draft", "refund"])
            if action == "confirm" and order.state in ("draft", "sent"):
                order.action_confirm()
            elif action == "cancel" and order.state != "cancel" and not order.invoice_ids:
                order._action_cancel()
            elif action == "draft" and order.state == "cancel":
                order.action_draft()
            elif action == "refund" and order.state == "sale" and not order.invoice_ids:
                share = rng.choice([0.1, 0.5, 1.0])
                self._refund(order, share)
                refunded_share[order] = share
            card = self._card()
            if not card:
                continue
            expected = sum(
                round(order.amount_untaxed * (1 - refunded_share[order]), 2)
                for order in orders
                if order.state == "sale"
            )
            self.assertAlmostEqual(card.points, expected, places=2, msg=f"after {action}")
            self.assertLedgerExact(card)

    @freeze_time("2026-01-10")
    def test_expiry_consumes_oldest_points_first_and_runs_once(self):
        self._confirmed(100.0)
        card = self._card()
        with freeze_time("2026-03-01"):
            self._confirmed(50.0)
        with freeze_time("2026-04-01"):
            self._adjust(card, -30, reason="Spent in shop")
        lots = self._entries(card).filtered(lambda entry: entry.points > 0).sorted("id")
        self.assertEqual(lots.mapped("remaining"), [70, 50])
        with freeze_time("2026-06-15"):
            self.env["loyalty.card"]._cron_send_expiry_reminders()
            self.assertTrue(lots[0].reminder_sent)
            self.assertFalse(lots[1].reminder_sent)
            mail = self.env["mail.mail"].search(
                [("model", "=", "loyalty.card"), ("res_id", "=", card.id)]
            )
            self.assertEqual(len(mail), 1)
            self.assertIn("70", mail.body_html)
        with freeze_time("2026-07-10"):
            self.assertEqual(self.env["loyalty.card"]._cron_expire_points(), 1)
            self.assertEqual(self.env["loyalty.card"]._cron_expire_points(), 0)
        card.invalidate_recordset()
        self.assertEqual(card.points, 50)
        expired = self._entries(card).filtered(lambda entry: entry.kind == "expire")
        self.assertEqual(expired.points, -70)
        self.assertEqual(
            card.history_ids.filtered(lambda h: h.used == 70).description, "Points expired"
        )
        self.assertLedgerExact(card)

    def test_inactivity_policy_extends_all_points_on_each_purchase(self):
        self.program.retention_expiry_policy = "inactivity"
        with freeze_time("2026-01-10"):
            self._confirmed(100.0)
        with freeze_time("2026-05-20"):
            self._confirmed(10.0)
        self.assertEqual(set(self._entries().mapped("expiry_date")), {date(2026, 11, 20)})

    def test_existing_cards_are_migrated_into_the_ledger(self):
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.customer.id}
        )
        with ledger_posting():  # a balance from before the install
            card.points = 42
        self.assertFalse(self._entries(card))
        post_init_hook(self.env)
        self.assertRecordValues(
            self._entries(card), [{"kind": "opening", "points": 42, "remaining": 42}]
        )
        post_init_hook(self.env)
        self.assertEqual(len(self._entries(card)), 1)

    def test_odoo_update_balance_wizard_is_recorded(self):
        self._confirmed(100.0)
        card = self._card()
        self.env["loyalty.card.update.balance"].create(
            {"card_id": card.id, "new_balance": 130, "description": "Goodwill"}
        ).action_update_card_point()
        newest = self._entries(card).sorted("id")[-1]
        self.assertRecordValues(
            newest, [{"kind": "adjust", "points": 30, "description": "Goodwill"}]
        )
        self.assertLedgerExact(card)


@tagged("post_install", "-at_install")
class TestPointsEarningAndSpending(PointsCase):
    def test_multipliers_and_campaigns_with_breakdown(self):
        vip = self.env["res.partner.category"].create(
            {"name": "VIP", "retention_points_multiplier": 1.5}
        )
        self.customer.category_id = vip
        self.env["retention.points.campaign"].create(
            {
                "name": "Coffee week",
                "program_id": self.program.id,
                "date_from": date(2026, 1, 1),
                "date_to": date(2026, 12, 31),
                "multiplier": 2.0,
                "product_category_ids": [Command.set(self.coffee_category.ids)],
            }
        )
        with freeze_time("2026-02-01"):
            order = self._quotation(100.0)
            order.order_line = [
                Command.create(
                    {
                        "product_id": self.other_product.id,
                        "price_unit": 100.0,
                        "tax_id": [Command.clear()],
                    }
                )
            ]
            order.action_confirm()
        # 200 base x 1.5 = 300; the coffee half earns a 2x bonus: + 150.
        self.assertEqual(self._card().points, 450)
        self.assertEqual(
            order.retention_points_breakdown["Retention Points"],
            {
                "base": 200.0,
                "customer_multiplier": 1.5,
                "customer_bonus": 100.0,
                "campaign_bonuses": [["Coffee week", 150.0]],
                "total": 450.0,
            },
        )
        self.assertIn("Coffee week", order.retention_points_breakdown_text)
        # Outside the campaign dates only the customer multiplier counts.
        with freeze_time("2027-02-01"):
            later = self._confirmed(100.0)
        self.assertEqual(later.retention_points_breakdown["Retention Points"]["total"], 150.0)

    def _use_points(self, order, points):
        wizard = (
            self.env["retention.points.redeem.wizard"]
            .with_context(default_order_id=order.id)
            .create({"points": points})
        )
        return wizard, wizard.action_apply()

    def test_partial_redemption_pays_part_of_the_order(self):
        self._confirmed(100.0)
        card = self._card()
        self._adjust(card, 400, kind="bonus", reason="Welcome bonus")
        order = self._quotation(100.0)
        wizard, _result = self._use_points(order, 200)
        self.assertEqual(wizard.max_points, 500)
        self.assertAlmostEqual(order.amount_total, 80.0)
        reward_line = order.order_line.filtered("reward_id")
        self.assertEqual(reward_line.points_cost, 200)
        # Changing the quotation keeps the chosen number of points.
        order.order_line.filtered(lambda line: not line.reward_id).product_uom_qty = 2
        order._update_programs_and_rewards()
        self.assertAlmostEqual(order.amount_total, 180.0)
        order.action_confirm()
        self.assertEqual(card.points, 500 - 200 + 200)
        spent = self._entries(card).filtered(lambda entry: entry.kind == "spend")
        self.assertRecordValues(spent, [{"points": -200, "order_id": order.id}])
        self.assertLedgerExact(card)

    def test_redemption_refuses_bad_amounts_and_writes_nothing(self):
        self._confirmed(100.0)
        order = self._quotation(5.0)
        for points in (0, -5, 101, 60):  # 60 points = 6.00 > the 5.00 order
            with self.assertRaises(UserError):
                self._use_points(order, points)
        self.assertFalse(order.order_line.filtered("reward_id"))
        self.assertFalse(order.retention_points_to_redeem)
        self._use_points(order, 50)
        self.assertAlmostEqual(order.amount_total, 0.0)

    def test_adjustments_need_an_administrator_a_reason_and_points(self):
        self._confirmed(100.0)
        card = self._card()
        with self.assertRaises(AccessError):
            self.env["retention.points.adjust.wizard"].with_user(self.salesman).create(
                {"card_id": card.id, "points": 10, "reason": "Nice customer"}
            )
        for points, reason in ((0, "Nothing"), (10, "  ")):
            with self.assertRaises(UserError):
                self._adjust(card, points, reason=reason)
        with self.assertRaisesRegex(UserError, "cannot be taken"):
            self._adjust(card, -101)
        self._adjust(card, 25, kind="bonus", reason="Birthday")
        self.assertEqual(card.points, 125)
        self.assertIn("Birthday", card.message_ids[0].body)
        self.assertLedgerExact(card)

    def test_bad_configuration_is_refused(self):
        with self.assertRaises(ValidationError):
            self.program.write({"retention_expiry_policy": "earned", "retention_expiry_months": 0})
        with self.assertRaises(ValidationError):
            self.program.write({"retention_expiry_policy": "earned", "retention_expiry_months": -3})
        with self.assertRaises(ValidationError):
            self.env["res.partner.category"].create(
                {"name": "Bad", "retention_points_multiplier": -1}
            )
        with self.assertRaises(ValidationError):
            self.env["retention.points.campaign"].create(
                {
                    "name": "Backwards",
                    "program_id": self.program.id,
                    "date_from": date(2026, 2, 1),
                    "date_to": date(2026, 1, 1),
                }
            )

    def test_archived_program_and_missing_email_give_clear_errors(self):
        self._confirmed(100.0)
        card = self._card()
        self.program.active = False
        with self.assertRaisesRegex(UserError, "archived"):
            self._adjust(card, 10)
        self.program.active = True
        self.customer.email = False
        with self.assertRaisesRegex(UserError, "no email"):
            card.action_retention_send_expiry_reminder()

    def test_ledger_entries_cannot_be_edited_or_deleted(self):
        self._confirmed(100.0)
        entry = self._entries()
        with self.assertRaises(UserError):
            entry.points = 1000
        with self.assertRaises(UserError):
            entry.unlink()

    def test_liability_report_values_outstanding_points(self):
        with freeze_time("2026-01-10"):
            self._confirmed(100.0)
        self.env.flush_all()
        rows = self.env["retention.points.liability"].search([("program_id", "=", self.program.id)])
        self.assertRecordValues(
            rows, [{"points": 100, "value": 10.0, "expiry_month": date(2026, 7, 1)}]
        )

    def test_other_company_does_not_see_the_ledger(self):
        self._confirmed(100.0)
        other_company = self.env["res.company"].create({"name": "Other Retention Co"})
        user = new_test_user(
            self.env,
            login="rl_points_other_company",
            groups="sales_team.group_sale_salesman",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        entries = self.env["retention.points.entry"].with_user(user).search([])
        self.assertFalse(entries)
        self.assertEqual(
            self.env["retention.points.entry"].with_user(self.salesman).search([]),
            self._entries(),
        )
        self.assertEqual(self._entries().mapped("points"), [100.0])


@tagged("post_install", "-at_install")
class TestPointsAccessAndCost(PointsCase):
    def _customer_with_lots(self, name, lots):
        partner = self.env["res.partner"].create({"name": name, "email": f"{name}@example.com"})
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": partner.id}
        )
        for _lot in range(lots):
            self._adjust(card, round(100.0 / lots, 2) + 0.01, kind="bonus", reason="Lot")
        return partner, card

    def _confirm_with_points(self, partner, points, budget=None):
        """Queries of confirming an order paid with ``points``, at most
        ``budget`` (none: a warm-up)."""
        order = self._quotation(50.0, partner=partner)
        self.env["retention.points.redeem.wizard"].with_context(default_order_id=order.id).create(
            {"points": points}
        ).action_apply()
        self.env.flush_all()
        self.env.invalidate_all()
        if budget is None:
            order.action_confirm()
            return None
        with self.assertQueryCount(budget):
            before = self.env.cr.sql_log_count
            order.action_confirm()
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

    def test_confirmation_queries_do_not_grow_with_the_lots_consumed(self):
        warm_partner, _card = self._customer_with_lots("warm", 2)
        self._confirm_with_points(warm_partner, 100)
        few_partner, few_card = self._customer_with_lots("few", 2)
        many_partner, many_card = self._customer_with_lots("many", 40)
        # One statement records the order's incentive costs and line costs.
        budget = 62 + inventory_queries(self.env) + pos_sale_queries(self.env)
        few = self._confirm_with_points(few_partner, 100, budget=budget)
        many = self._confirm_with_points(many_partner, 100, budget=budget)
        self.assertEqual(few, many)
        for card in (few_card, many_card):
            self.assertLedgerExact(card)

    def test_expiry_batch_queries_do_not_grow_with_the_lots(self):
        """The expiry cron's query budget per batch, whatever the number of
        cards and lots it expires."""

        def expire(day, budget=None):
            with freeze_time(day):
                if budget is None:
                    return self.env["loyalty.card"]._cron_expire_points(), None
                self.env.flush_all()
                with self.assertQueryCount(budget):
                    before = self.env.cr.sql_log_count
                    expired = self.env["loyalty.card"]._cron_expire_points()
                    self.env.flush_all()
                    return expired, self.env.cr.sql_log_count - before

        def customers(day, count, lots):
            with freeze_time(day):
                return [self._customer_with_lots(f"{day} {index}", lots) for index in range(count)]

        customers("2025-12-01", 1, 1)
        few = customers("2026-01-01", 2, 1)
        many = customers("2026-02-01", 8, 3)
        self.assertEqual(expire("2026-06-02"), (1, None))  # warm-up
        few_expired, few_queries = expire("2026-07-02", budget=7)
        many_expired, many_queries = expire("2026-08-02", budget=7)
        self.assertEqual((few_expired, many_expired), (2, 24))
        self.assertEqual(few_queries, many_queries)
        for _partner, card in few + many:
            self.assertEqual(card.points, 0.0)
            self.assertLedgerExact(card)

    def test_salesperson_uses_points_but_does_not_adjust_them(self):
        self._confirmed(100.0)
        card = self._card()
        order = self._quotation(100.0, user_id=self.salesman.id).with_user(self.salesman)
        self.env["retention.points.redeem.wizard"].with_user(self.salesman).with_context(
            default_order_id=order.id
        ).create({"points": 40}).action_apply()
        order.action_confirm()
        self.assertEqual(card.points, 100 - 40 + 100)
        self.assertLedgerExact(card)
        wizard = (
            self.env["loyalty.card.update.balance"]
            .with_user(self.salesman)
            .create({"card_id": card.id, "new_balance": 1000, "description": "Friend"})
        )
        with self.assertRaises(UserError):
            wizard.action_update_card_point()
        self.assertEqual(card.points, 160)

    @freeze_time("2026-01-10")
    def test_portal_card_shows_the_next_expiry(self):
        self._confirmed(100.0)
        portal_user = new_test_user(
            self.env,
            login="rl_points_portal",
            groups="base.group_portal",
            partner_id=self.customer.id,
        )
        html = self.env["ir.qweb"]._render(
            "portal.side_content",
            {
                "user_id": portal_user,
                "sales_user": False,
                "cards_per_programs": {self.program: self._card().sudo()},
            },
        )
        self.assertIn("o_retention_points_expiry", str(html))
        # In words: "100 points expire on 10 Jul 2026".
        self.assertRegex(str(html), r"100 points expire on\s+10 Jul 2026")


@tagged("post_install", "-at_install")
class TestPointsEdgeFlows(PointsCase):
    def test_reward_changed_on_a_confirmed_order_stays_with_that_order(self):
        with freeze_time("2026-01-10"):
            self._confirmed(500.0)
        card = self._card()
        with freeze_time("2026-03-01"):
            order = self._quotation(100.0)
            self.env["retention.points.redeem.wizard"].with_context(
                default_order_id=order.id
            ).create({"points": 300}).action_apply()
            order.action_confirm()
            self.assertEqual(card.points, 500 - 300 + 100)
            order.order_line.filtered("reward_id").points_cost = 400
            self.assertEqual(card.points, 200)
            extra = self._entries(card).sorted("id")[-1]
            self.assertRecordValues(
                extra, [{"kind": "spend", "points": -100, "order_id": order.id}]
            )
        with freeze_time("2026-05-01"):
            order._action_cancel()
        self.assertEqual(card.points, 500)
        restored = self._entries(card).filtered(lambda e: e.kind == "cancel" and e.points > 0)
        # Points given back keep the expiry of the points they were taken from.
        self.assertRecordValues(restored, [{"points": 400, "expiry_date": date(2026, 7, 10)}])
        self.assertLedgerExact(card)

    def test_only_administrators_set_a_balance(self):
        self._confirmed(100.0)
        card = self._card()
        with self.assertRaises(UserError):
            card.with_user(self.salesman).write({"points": 100000})
        self.assertEqual(card.points, 100)

    def test_an_accountant_without_sales_rights_posts_credit_notes(self):
        order = self._confirmed(200.0)
        card = self._card()
        invoice = order._create_invoices()
        invoice.action_post()
        accountant = new_test_user(
            self.env, login="rl_points_accountant", groups="account.group_account_invoice"
        )
        refund = invoice._reverse_moves()
        refund.with_user(accountant).action_post()
        self.assertEqual(card.points, 0)
        self.assertLedgerExact(card)

    def test_refunds_of_an_earlier_confirmation_do_not_count_again(self):
        order = self._confirmed(100.0)
        card = self._card()
        self._refund(order, 1.0)
        self.assertEqual(card.points, 0)
        order._action_cancel()
        order.action_draft()
        order.action_confirm()
        self.assertEqual(card.points, 100)
        invoice = order._create_invoices()
        invoice.action_post()
        refund = invoice._reverse_moves()
        refund.invoice_line_ids.price_unit = 10.0
        refund.action_post()
        self.assertEqual(card.points, 90)
        self.assertLedgerExact(card)

    def test_points_of_a_contact_show_on_their_company(self):
        company_partner = self.env["res.partner"].create(
            {"name": "Points Corp", "is_company": True}
        )
        contact = self.env["res.partner"].create(
            {"name": "Points Buyer", "parent_id": company_partner.id}
        )
        self._confirmed(100.0, partner=contact)
        self.assertEqual(company_partner.retention_points_balance, 100)
        # Odoo's loyalty applies a card to orders of its own partner only.
        order = self._quotation(50.0, partner=company_partner)
        wizard = (
            self.env["retention.points.redeem.wizard"]
            .with_context(default_order_id=order.id)
            .create({"points": 10})
        )
        self.assertFalse(wizard.card_id)

    def test_changing_the_expiry_rule_applies_to_unspent_points(self):
        with freeze_time("2026-01-10"):
            self._confirmed(100.0)
        card = self._card()
        lot = self._entries(card)
        self.program.retention_expiry_policy = "never"
        self.assertFalse(lot.expiry_date)
        with freeze_time("2026-12-01"):
            self.assertEqual(self.env["loyalty.card"]._cron_expire_points(), 0)
        with freeze_time("2026-02-01"):
            self.program.write({"retention_expiry_policy": "earned", "retention_expiry_months": 3})
        self.assertEqual(lot.expiry_date, date(2026, 4, 10))

    def test_inactivity_purchase_asks_for_a_new_reminder(self):
        self.program.retention_expiry_policy = "inactivity"
        with freeze_time("2026-01-10"):
            self._confirmed(100.0)
        lot = self._entries()
        with freeze_time("2026-06-20"):
            self.env["loyalty.card"]._cron_send_expiry_reminders()
        self.assertTrue(lot.reminder_sent)
        with freeze_time("2026-07-01"):
            self._confirmed(10.0)
        self.assertRecordValues(lot, [{"reminder_sent": False, "expiry_date": date(2027, 1, 1)}])


@tagged("post_install", "-at_install")
class TestLoyaltyCardScreens(PointsCase):
    """The card form tells the same story in Odoo's History Lines as in the
    Points Ledger, and is reached under its own name."""

    @freeze_time("2026-03-10 09:00:00")
    def test_history_lines_carry_the_ledger_dates(self):
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.customer.id}
        )
        # A history loaded afterwards (the demo data, an import): dated in the past.
        self.env["loyalty.card"]._retention_post(
            [
                {
                    "card": card,
                    "kind": "bonus",
                    "points": 50,
                    "date": date(2026, 1, 5),
                    "description": "Welcome bonus",
                },
                {"card": card, "kind": "bonus", "points": 20, "description": "Today's bonus"},
            ],
            write_history=True,
        )
        ledger = {entry.description: entry.date for entry in self._entries(card)}
        self.assertEqual(
            ledger, {"Welcome bonus": date(2026, 1, 5), "Today's bonus": date(2026, 3, 10)}
        )
        # Today's change keeps the moment it was made (the transaction's).
        history = {line.description: line.create_date for line in card.history_ids}
        self.assertEqual(
            history,
            {"Welcome bonus": datetime(2026, 1, 5, 12, 0), "Today's bonus": self.env.cr.now()},
        )

    def test_the_customer_cards_button_names_loyalty_cards(self):
        self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.customer.id}
        )
        action = self.customer.action_view_loyalty_cards()
        self.assertEqual(
            (action["name"], action["display_name"]), ("Loyalty Cards", "Loyalty Cards")
        )
        self.assertEqual(self.env["loyalty.card"].search(action["domain"]).program_id, self.program)


@tagged("post_install", "-at_install")
class TestRefundGivesSpentPointsBack(PointsCase):
    """A credit note gives back the points its order spent as part payment,
    in the refunded proportion, as it takes back the points it earned."""

    def _paid_with_points(self):
        self._confirmed(100.0)
        card = self._card()
        self._adjust(card, 400, kind="bonus", reason="Welcome bonus")
        order = self._quotation(100.0)
        self.env["retention.points.redeem.wizard"].with_context(default_order_id=order.id).create(
            {"points": 200}
        ).action_apply()
        order.action_confirm()
        self.assertAlmostEqual(order.amount_untaxed, 80.0)
        self.assertEqual(card.points, 500 - 200 + 100)
        return order, card

    def _credit_note(self, order, share):
        invoice = order._create_invoices()
        invoice.action_post()
        refund = invoice._reverse_moves()
        for line in refund.invoice_line_ids:
            line.price_unit *= share
        refund.action_post()
        return refund

    def _order_entries(self, card, order):
        return [
            (entry.kind, entry.points)
            for entry in self._entries(card).sorted("id")
            if entry.order_id == order
        ]

    def test_half_refund_gives_half_the_spent_points_back_and_undoing_it_takes_them(self):
        order, card = self._paid_with_points()
        refund = self._credit_note(order, 0.5)
        # 40.00 of 80.00 refunded: 50 of the 100 earned go, 100 of the 200 spent come back.
        self.assertEqual(card.points, 400 - 50 + 100)
        self.assertEqual(
            self._order_entries(card, order),
            [("earn", 100), ("spend", -200), ("refund_spent", 100), ("refund", -50)],
        )
        self.assertLedgerExact(card)
        order._retention_sync_refunds()  # idempotent
        self.assertEqual(card.points, 450)
        refund.button_draft()
        self.assertEqual(card.points, 400)
        self.assertLedgerExact(card)

    def test_cancelling_after_a_refund_restores_the_balance_before_the_order(self):
        order, card = self._paid_with_points()
        self._credit_note(order, 0.5)
        order._action_cancel()
        # Spent points come back once: the credit note's 100, the cancellation the rest.
        self.assertEqual(card.points, 500)
        self.assertLedgerExact(card)
