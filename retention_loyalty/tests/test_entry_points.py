"""Buttons and scheduled actions driven as their users drive them: the action
a button returns is opened with its own context, by the user who has the
button, and the scheduled actions run as Odoo runs them."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import TODAY, RetentionCase, make_order, make_product
from .test_clubs import ClubCase
from .test_points import PointsCase
from .test_subscription_billing import demo_token
from .test_subscriptions import SubscriptionCase


def open_action(env, action):
    """The record a window action opens, created with the action's context."""
    return env[action["res_model"]].with_context(**action["context"])


@tagged("post_install", "-at_install")
class TestPointsEntryPoints(PointsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="rl_entry_points_manager", groups="sales_team.group_sale_manager"
        )

    def test_adjust_button_opens_a_wizard_for_that_card(self):
        self._confirmed(100.0)
        card = self._card().with_user(self.manager)
        action = card.action_retention_adjust_points()
        wizard = open_action(self.env(user=self.manager), action).create(
            {"points": 30, "kind": "bonus", "reason": "Loyal since 2020"}
        )
        self.assertEqual(wizard.card_id, card)
        self.assertEqual(wizard.balance, 100)
        wizard.action_apply()
        self.assertEqual(card.points, 130)
        bonus = self._entries(card).filtered(lambda entry: entry.kind == "bonus")
        self.assertRecordValues(
            bonus, [{"points": 30, "description": "Loyal since 2020", "user_id": self.manager.id}]
        )
        self.assertLedgerExact(card)
        self.program.active = False
        with self.assertRaisesRegex(UserError, "is archived"):
            card.action_retention_adjust_points()

    def test_ledger_button_lists_exactly_that_cards_entries(self):
        self._confirmed(100.0)
        other = self.env["res.partner"].create({"name": "Other Loyal Customer"})
        self._confirmed(40.0, partner=other)
        card = self._card().with_user(self.manager)
        action = card.action_retention_open_ledger()
        self.assertEqual(action["res_model"], "retention.points.entry")
        listed = self.env["retention.points.entry"].with_user(self.manager).search(action["domain"])
        self.assertEqual(listed, self._entries(card))
        self.assertEqual(listed.mapped("points"), [100])
        self.assertEqual(action["context"], {"default_card_id": card.id})

    @freeze_time("2026-01-10")
    def test_reminder_button_emails_the_customer(self):
        self.program.retention_reminder_template_id = self.env.ref(
            "retention_loyalty.mail_template_points_expiry_reminder"
        )
        self._confirmed(100.0)
        card = self._card().with_user(self.manager)
        self.assertEqual(card.retention_next_expiry_date, date(2026, 7, 10))
        before = self.env["mail.mail"].sudo().search([("model", "=", "loyalty.card")])
        self.assertTrue(card.action_retention_send_expiry_reminder())
        sent = self.env["mail.mail"].sudo().search([("model", "=", "loyalty.card")]) - before
        self.assertEqual(len(sent), 1)
        self.assertEqual((sent.res_id, sent.recipient_ids), (card.id, self.customer))

    def test_use_points_button_on_a_quotation_only(self):
        self._confirmed(100.0)
        card = self._card()
        order = self._quotation(100.0, user_id=self.salesman.id).with_user(self.salesman)
        action = order.action_retention_use_points()
        wizard = open_action(self.env(user=self.salesman), action).create({"points": 40})
        self.assertEqual((wizard.order_id, wizard.card_id), (order, card))
        self.assertEqual(wizard.max_points, 100)
        wizard.action_apply()
        self.assertAlmostEqual(order.amount_total, 96.0)
        order.action_confirm()
        self.assertEqual(card.points, 100 - 40 + 100)
        self.assertLedgerExact(card)
        with self.assertRaisesRegex(UserError, "only be used on a quotation"):
            order.action_retention_use_points()

    def test_cancelling_a_posted_credit_note_gives_the_points_back(self):
        order = self._confirmed(200.0)
        card = self._card()
        invoice = order._create_invoices()
        invoice.action_post()
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Damaged"})
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        refund.action_post()
        self.assertEqual(card.points, 0)
        refund.button_cancel()
        self.assertEqual(refund.state, "cancel")
        self.assertEqual(card.points, 200)
        kinds = self._entries(card).sorted("id").mapped(lambda entry: (entry.kind, entry.points))
        self.assertEqual(kinds, [("earn", 200), ("refund", -200), ("refund", 200)])
        self.assertLedgerExact(card)
        # Cancelled, it counts no more: syncing again changes nothing.
        order._retention_sync_refunds()
        self.assertEqual(card.points, 200)


@tagged("post_install", "-at_install")
class TestScorecardReset(SubscriptionCase):
    @freeze_time("2026-06-15")
    def test_administrator_resets_an_approved_scorecard_and_it_is_recomputed(self):
        salesman = new_test_user(
            self.env, login="rl_entry_card_salesman", groups="sales_team.group_sale_salesman"
        )
        manager = new_test_user(
            self.env, login="rl_entry_card_manager", groups="sales_team.group_sale_manager"
        )
        customer = self.env["res.partner"].create({"name": "Scorecard customer"})
        make_order(self.env, customer, self.coffee, 300.0, date(2026, 4, 10), user_id=salesman.id)
        Scorecard = self.env["retention.scorecard"]
        card = Scorecard._compute_period(self.company, "month", date(2026, 4, 1))
        self.assertEqual((card.user_id, card.revenue), (salesman, 300.0))
        card.with_user(manager).action_approve()
        make_order(self.env, customer, self.coffee, 200.0, date(2026, 4, 20), user_id=salesman.id)
        self.assertEqual(Scorecard._compute_period(self.company, "month", date(2026, 4, 1)), card)
        self.assertEqual(card.revenue, 300.0, "approved: kept as approved")
        with self.assertRaises(AccessError):
            card.with_user(salesman).action_reset_to_draft()
        self.assertEqual(card.state, "approved")
        card.with_user(manager).action_reset_to_draft()
        self.assertEqual(card.state, "draft")
        again = Scorecard._compute_period(self.company, "month", date(2026, 4, 1))
        self.assertFalse(card.exists(), "a draft is replaced by the new computation")
        self.assertEqual((again.user_id, again.revenue, again.state), (salesman, 500.0, "draft"))


@tagged("post_install", "-at_install")
class TestMembershipCancelButton(ClubCase):
    def test_salesperson_cancels_through_the_button(self):
        salesman = new_test_user(
            self.env, login="rl_entry_club_salesman", groups="sales_team.group_sale_salesman"
        )
        membership = self.Membership.create(
            {"partner_id": self.customer.id, "club_id": self.paid_club.id}
        ).with_user(salesman)
        action = membership.action_cancel()
        wizard = open_action(self.env(user=salesman), action).create({"reason": "Moved abroad"})
        self.assertEqual(wizard.membership_ids, membership)
        wizard.action_apply()
        self.assertRecordValues(
            membership, [{"state": "cancelled", "cancel_reason": "Moved abroad"}]
        )
        with self.assertRaisesRegex(UserError, "already ended"):
            open_action(self.env(user=salesman), membership.action_cancel()).create(
                {"reason": "Twice"}
            ).action_apply()


@tagged("post_install", "-at_install")
class TestSubscriptionEntryPoints(SubscriptionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="rl_entry_sub_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.shard_crons = (
            cls.env.ref("retention_loyalty.ir_cron_retention_subscription_orders"),
            cls.env.ref("retention_loyalty.ir_cron_retention_subscription_orders_2"),
        )

    def _subscriptions_for(self, partners, start):
        return self.Subscription.create(
            [
                {
                    "partner_id": partner.id,
                    "date_start": start,
                    "line_ids": [
                        Command.create(
                            {"product_id": self.coffee.id, "quantity": 1, "price_unit": 20.0}
                        )
                    ],
                }
                for partner in partners
            ]
        )

    def test_close_button_opens_the_wizard_for_the_selection(self):
        with freeze_time("2026-03-10"):
            first, second = (
                self._subscription(date(2026, 1, 1), user_id=self.salesman.id),
                self._subscription(date(2026, 2, 1), user_id=self.salesman.id),
            )
            both = (first | second).with_user(self.salesman)
            action = both.action_close()
            wizard = open_action(self.env(user=self.salesman), action).create(
                {"close_reason_id": self.reason.id, "note": "Switching to pods"}
            )
            self.assertEqual(wizard.subscription_ids, both)
            wizard.action_apply()
        self.assertRecordValues(
            first | second,
            [
                {
                    "state": "closed",
                    "close_reason_id": self.reason.id,
                    "date_closed": date(2026, 3, 10),
                }
            ]
            * 2,
        )
        self.assertEqual(both.mapped("close_note"), ["Switching to pods"] * 2)

    def test_orders_button_lists_the_subscriptions_orders(self):
        with freeze_time("2026-03-10"):
            subscription = self._subscription(date(2026, 1, 1), user_id=self.salesman.id)
            other = self._subscription(date(2026, 1, 1), user_id=self.salesman.id)
            (subscription | other)._generate_orders()
        self.assertEqual(len(other.order_ids), 3)
        action = subscription.with_user(self.salesman).action_view_orders()
        orders = self.env["sale.order"].with_user(self.salesman).search(action["domain"])
        self.assertEqual(orders, subscription.order_ids)
        self.assertEqual(len(orders), 3)

    def test_the_two_scheduled_actions_share_the_customers_by_parity(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Shard customer {index}"} for index in range(4)]
        )
        even = partners.filtered(lambda partner: partner.id % 2 == 0)
        odd = partners - even
        with freeze_time("2026-03-10 09:00:00"):
            subscriptions = self._subscriptions_for(partners, date(2026, 3, 1))
            subscriptions.action_activate()
            self.assertEqual(
                [cron.code for cron in self.shard_crons],
                [
                    "model._cron_generate_orders(shard=0, shards=2)",
                    "model._cron_generate_orders(shard=1, shards=2)",
                ],
            )
            self.shard_crons[0].method_direct_trigger()
            ordered = subscriptions.filtered("order_ids")
            self.assertEqual(ordered.partner_id, even)
            self.shard_crons[1].method_direct_trigger()
            self.shard_crons[0].method_direct_trigger()
            self.shard_crons[1].method_direct_trigger()
        self.assertEqual(subscriptions.filtered("order_ids").partner_id, even | odd)
        for subscription in subscriptions:
            self.assertEqual(len(subscription.order_ids), 1, subscription.partner_id.name)
            self.assertEqual(subscription.order_ids.state, "sale")
            self.assertEqual(subscription.next_date, date(2026, 4, 1))

    def test_more_due_subscriptions_than_one_batch(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Batch customer {index}"} for index in range(5)]
        )
        with freeze_time("2026-03-10 09:00:00"):
            subscriptions = self._subscriptions_for(partners, date(2026, 3, 1))
            subscriptions.action_activate()
            cron, progress = self.shard_crons[0]._add_progress()
            Subscription = self.Subscription.with_context(ir_cron_progress_id=progress.id)
            done = []
            for _run in range(4):
                Subscription._cron_generate_orders(batch_size=2)
                done.append((progress.done, progress.remaining))
                self.assertEqual(cron, self.shard_crons[0])
        # Two per run while more are due ("remaining" says whether more are
        # left, as the cron runner needs), until none is; nothing twice.
        self.assertEqual(done, [(2, 1), (2, 1), (1, 0), (0, 0)])
        self.assertEqual([len(s.order_ids) for s in subscriptions], [1] * 5)

    def test_due_dates_follow_the_company_time_zone(self):
        """At 20:00 UTC on 31 March it is already 1 April in Auckland (UTC+13):
        a subscription starting on 1 April is due there, not in UTC."""
        customer = self.env["res.partner"].create({"name": "Auckland customer"})
        with freeze_time("2026-03-31 20:00:00"):
            subscription = self._subscriptions_for(customer, date(2026, 4, 1))
            subscription.action_activate()
            for cron in self.shard_crons:
                cron.method_direct_trigger()
            self.assertFalse(subscription.order_ids, "31 March in UTC: not due yet")
            self.company.partner_id.tz = "Pacific/Auckland"
            for cron in self.shard_crons:
                cron.method_direct_trigger()
            self.assertEqual(len(subscription.order_ids), 1)
            # Noon of 1 April in Auckland, stored in UTC.
            self.assertEqual(subscription.order_ids.date_order, datetime(2026, 3, 31, 23, 0))
            self.assertEqual(subscription.next_date, date(2026, 5, 1))
            subscription._close(self.reason)
        self.assertEqual(subscription.date_closed, date(2026, 4, 1))
        self.assertEqual(
            subscription.event_ids.filtered(lambda event: event.kind == "close").date,
            date(2026, 4, 1),
        )


@tagged("post_install", "-at_install")
class TestEveryCronAsScheduled(SubscriptionCase):
    """Each scheduled action of the addon, triggered as Odoo triggers it (its
    own code, its own user), does its day's work on a small company."""

    CRONS = (
        "ir_cron_retention_recompute",
        "ir_cron_retention_dashboard",
        "ir_cron_retention_scorecards",
        "ir_cron_retention_clubs",
        "ir_cron_retention_playbooks",
        "ir_cron_retention_expire_points",
        "ir_cron_retention_points_reminders",
        "ir_cron_retention_subscription_orders",
        "ir_cron_retention_subscription_orders_2",
        "ir_cron_retention_subscription_reminders",
        "ir_cron_retention_product_affinity",
        "ir_cron_retention_referral_rewards",
        "ir_cron_retention_subscription_payment_retries",
        "ir_cron_retention_bonus_points",
    )

    def test_the_list_of_scheduled_actions_is_complete(self):
        names = self.env["ir.model.data"].search(
            [("model", "=", "ir.cron"), ("module", "like", "retention_loyalty%")]
        )
        self.assertEqual(set(names.mapped("name")), set(self.CRONS))

    def test_each_scheduled_action_does_its_days_work(self):
        salesman = new_test_user(
            self.env, login="rl_entry_cron_salesman", groups="sales_team.group_sale_salesman"
        )
        customer = self.customer
        customer.write({"user_id": salesman.id, "retention_birthday": date(1985, 7, 2)})
        make_order(self.env, customer, self.coffee, 200.0, date(2026, 3, 10), user_id=salesman.id)
        make_order(self.env, customer, self.coffee, 300.0, date(2026, 6, 10), user_id=salesman.id)
        club = self.env["retention.club"].create(
            {"name": "Cron Club", "qualification_threshold": 400.0, "window_days": 365}
        )
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Cron birthdays",
                "trigger": "birthday",
                "trigger_days": 0,
                "control_percent": 0,
                "action_ids": [
                    Command.create(
                        {
                            "kind": "activity",
                            "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                        }
                    )
                ],
            }
        )
        program = self.env["loyalty.program"].create(
            {
                "name": "Cron Points",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "rule_ids": [Command.create({"reward_point_mode": "money", "minimum_amount": 0})],
                "retention_expiry_policy": "earned",
                "retention_expiry_months": 6,
                "retention_reminder_days": 30,
                "retention_reminder_template_id": self.env.ref(
                    "retention_loyalty.mail_template_points_expiry_reminder"
                ).id,
                "retention_bonus_birthday_points": 5.0,
            }
        )
        card = self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": customer.id, "points": 0}
        )
        due_lot, soon_lot = self.env["loyalty.card"]._retention_post(
            [
                {"card": card, "kind": "bonus", "points": 15.0, "description": "Old", "date": day}
                for day in (date(2025, 12, 15), date(2026, 1, 20))
            ]
        )
        self.assertEqual(
            (due_lot.expiry_date, soon_lot.expiry_date), (date(2026, 6, 15), date(2026, 7, 20))
        )
        ending = self._subscription(date(2026, 5, 1), max_periods=3)
        ending.next_period = 3  # its three orders are made
        filters = make_product(self.env, "Cron Filters", 4.0)
        # A tea drinker too: coffee then goes with filters more than with anything.
        tea_drinker = self.env["res.partner"].create({"name": "Cron tea drinker"})
        make_order(
            self.env, tea_drinker, make_product(self.env, "Cron Tea", 5.0), 5.0, date(2026, 5, 2)
        )
        for number in range(3):
            buyer = self.env["res.partner"].create({"name": f"Cron pair buyer {number}"})
            make_order(self.env, buyer, self.coffee, 20.0, date(2026, 5, 2))
            make_order(self.env, buyer, filters, 4.0, date(2026, 5, 3))
        # A subscriber whose card was refused yesterday: retried today.
        refused = self.env["res.partner"].create({"name": "Cron refused card"})
        unpaid = self._subscription(
            date(2026, 7, 1),
            partner_id=refused.id,
            invoice_policy="posted",
            payment_token_id=demo_token(self.env, refused, "error").id,
        )
        with freeze_time("2026-07-01 06:00:00"):
            unpaid._generate_orders()
        self.assertEqual(unpaid.charge_ids.next_retry_date, date(2026, 7, 2))
        with freeze_time("2026-07-02 06:00:00"):
            for name in self.CRONS:
                self.env.ref(f"retention_loyalty.{name}").method_direct_trigger()
        today = date(2026, 7, 2)
        company = self.company
        self.assertEqual(company.retention_last_run.date(), today)
        stat = self.env["retention.customer.stat"].search([("partner_id", "=", customer.id)])
        self.assertEqual((stat.order_count, stat.revenue_total), (2, 500.0))
        self.assertEqual(company.retention_dashboard_last_run.date(), today)
        june = self.env["retention.customer.month"].search(
            [("partner_id", "=", customer.id), ("month", "=", date(2026, 6, 1))]
        )
        self.assertEqual(june.revenue, 300.0)
        self.assertEqual(company.retention_scorecard_last_month, date(2026, 6, 1))
        scorecard = self.env["retention.scorecard"].search(
            [("user_id", "=", salesman.id), ("date_start", "=", date(2026, 6, 1))]
        )
        self.assertEqual(scorecard.revenue, 300.0)
        self.assertEqual(company.retention_club_last_run, today)
        membership = self.env["retention.club.membership"].search([("club_id", "=", club.id)])
        self.assertEqual((membership.partner_id, membership.state), (customer, "active"))
        self.assertEqual(playbook.last_evaluated, today)
        birthday_call = self.env["mail.activity"].search(
            [("retention_playbook_id", "=", playbook.id), ("res_id", "=", customer.id)]
        )
        self.assertEqual(len(birthday_call), 1)
        self.assertEqual((due_lot.remaining, soon_lot.remaining), (0.0, 15.0))
        # 15 points left, and the birthday bonus of the day.
        birthday_bonus = card.retention_entry_ids.filtered(
            lambda entry: entry.bonus_source == "birthday"
        )
        self.assertEqual(
            (birthday_bonus.points, birthday_bonus.bonus_period, birthday_bonus.date),
            (5.0, "2026", today),
        )
        self.assertEqual(card.points, 20.0)
        self.assertTrue(soon_lot.reminder_sent)
        reminder = self.env["mail.mail"].search(
            [("model", "=", "loyalty.card"), ("res_id", "=", card.id)]
        )
        self.assertEqual(reminder.recipient_ids, customer)
        self.assertTrue(ending.reminder_done)
        self.assertEqual(ending.activity_ids.mapped("date_deadline"), [date(2026, 7, 1)])
        pairs = self.env["retention.product.affinity"].search([("product_id", "=", filters.id)])
        self.assertEqual(pairs.related_product_id, self.coffee)
        self.assertRecordValues(
            unpaid.charge_ids,
            [{"state": "failed", "attempt_count": 2, "next_retry_date": date(2026, 7, 4)}],
        )


@tagged("post_install", "-at_install")
class TestNavigationButtons(RetentionCase):
    """The buttons that open related records show exactly those records to
    the salesperson who clicks them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer, cls.other = cls._regular_customers(2, prefix="Navigation")
        cls.customer.user_id = cls.salesman
        cls.other.user_id = cls.salesman
        with freeze_time(TODAY):
            cls.Stat._recompute_company(cls.company, today=TODAY)

    def _search(self, action):
        return self.env[action["res_model"]].with_user(self.salesman).search(action["domain"])

    def test_customer_statistics_buttons(self):
        customer = self.customer.with_user(self.salesman)
        stat = self._stat(self.customer)
        self.assertTrue(stat)
        action = customer.action_view_retention_stat()
        self.assertEqual((action["res_model"], action["res_id"]), (stat._name, stat.id))
        action = stat.with_user(self.salesman).action_open_partner()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", customer.id))
        tier = stat.value_tier_id
        self.assertTrue(tier)
        listed = self._search(tier.with_user(self.salesman).action_view_customers())
        self.assertIn(stat, listed)
        self.assertEqual(listed.value_tier_id, tier)
        self.assertEqual(listed, self.Stat.search([("value_tier_id", "=", tier.id)]))

    def test_dashboard_row_opens_its_customer(self):
        manager = new_test_user(
            self.env, login="rl_entry_nav_manager", groups="sales_team.group_sale_manager"
        )
        self.env["retention.customer.month"]._rebuild_company(self.company, as_of=TODAY)
        row = (
            self.env["retention.customer.month"]
            .with_user(manager)
            .search([("partner_id", "=", self.customer.id)], limit=1)
        )
        action = row.action_open_partner()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", self.customer.id))

    def test_playbook_runs_and_club_members_buttons(self):
        playbook, other_playbook = self.env["retention.playbook"].create(
            [
                {
                    "name": name,
                    "trigger": "overdue",
                    "action_ids": [
                        Command.create(
                            {
                                "kind": "activity",
                                "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                            }
                        )
                    ],
                }
                for name in ("Nav A", "Nav B")
            ]
        )
        runs = self.env["retention.playbook.run"].create(
            [
                {
                    "playbook_id": playbook.id,
                    "partner_id": partner.id,
                    "date": TODAY,
                    "state": "done",
                }
                for partner in (self.customer, self.other)
            ]
        )
        self.env["retention.playbook.run"].create(
            {
                "playbook_id": other_playbook.id,
                "partner_id": self.customer.id,
                "date": TODAY,
                "state": "done",
            }
        )
        action = playbook.with_user(self.salesman).action_view_runs()
        self.assertEqual(self._search(action), runs)
        club, other_club = self.env["retention.club"].create(
            [{"name": name, "qualification_threshold": 1.0} for name in ("Nav Club", "Nav Other")]
        )
        Membership = self.env["retention.club.membership"]
        members = Membership.create(
            [{"partner_id": p.id, "club_id": club.id} for p in (self.customer, self.other)]
        )
        Membership.create({"partner_id": self.customer.id, "club_id": other_club.id})
        action = club.with_user(self.salesman).action_view_members()
        self.assertEqual(
            self.env["retention.club.membership"].with_user(self.salesman).search(action["domain"]),
            members,
        )
        self.assertEqual(action["context"]["default_club_id"], club.id)

    def test_follow_up_opens_its_customer(self):
        activity = self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": self.customer.id,
                "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                "user_id": self.salesman.id,
            }
        )
        action = activity.with_user(self.salesman).action_retention_open_customer()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", self.customer.id))

    def test_order_lists_the_subscriptions_it_started_or_came_from(self):
        order = self._orders(self.customer, [3], user_id=self.salesman.id)
        values = {
            "partner_id": self.customer.id,
            "user_id": self.salesman.id,
            "date_start": TODAY,
            "line_ids": [Command.create({"product_id": self.product.id, "price_unit": 10.0})],
        }
        started, unrelated = self.env["retention.subscription"].create(
            [{**values, "origin_order_id": order.id}, values]
        )
        action = order.with_user(self.salesman).action_retention_view_subscriptions()
        self.assertEqual(self._search(action), started)
        started.action_activate()
        with freeze_time(TODAY):
            generated = started._generate_orders()
        self.assertEqual(len(generated), 1)
        action = generated.with_user(self.salesman).action_retention_view_subscriptions()
        self.assertEqual(self._search(action), started)
        self.assertNotIn(unrelated, self._search(action))
