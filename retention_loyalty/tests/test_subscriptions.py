import threading
from datetime import date
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from psycopg2.errors import UniqueViolation

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import (
    inventory_queries,
    make_points_program,
    make_product,
    own_cursor_env,
    website_sale_queries,
)

SUBSCRIPTION_LOGGER = "odoo.addons.retention_loyalty.models.retention_subscription"


class SubscriptionCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.company.partner_id.tz = "UTC"
        cls.coffee = make_product(cls.env, "Coffee beans 1 kg", 20.0)
        cls.filters = make_product(cls.env, "Filters", 5.0)
        cls.customer = cls.env["res.partner"].create(
            {"name": "Subscriber", "email": "subscriber@example.com"}
        )
        cls.reason = cls.env.ref("retention_loyalty.subscription_close_reason_price")
        cls.Subscription = cls.env["retention.subscription"]

    def _subscription(self, start, interval=1, unit="month", activate=True, **values):
        subscription = self.Subscription.create(
            {
                "partner_id": self.customer.id,
                "interval": interval,
                "interval_unit": unit,
                "date_start": start,
                "line_ids": [
                    Command.create(
                        {"product_id": self.coffee.id, "quantity": 2, "price_unit": 20.0}
                    ),
                    Command.create(
                        {"product_id": self.filters.id, "quantity": 1, "price_unit": 5.0}
                    ),
                ],
                **values,
            }
        )
        if activate:
            subscription.action_activate()
        return subscription

    def _order_dates(self, subscription):
        return sorted(order.date_order.date() for order in subscription.order_ids)


@tagged("post_install", "-at_install")
class TestSubscriptionOrders(SubscriptionCase):
    def test_each_recurrence_kind_orders_its_periods(self):
        cases = [
            (3, "day", [date(2026, 1, 1), date(2026, 1, 4), date(2026, 1, 7)]),
            (1, "week", [date(2026, 1, 1), date(2026, 1, 8)]),
            (1, "month", [date(2026, 1, 1)]),
            (1, "year", [date(2026, 1, 1)]),
        ]
        with freeze_time("2026-01-09"):
            for interval, unit, expected in cases:
                subscription = self._subscription(date(2026, 1, 1), interval, unit)
                subscription._generate_orders()
                self.assertEqual(self._order_dates(subscription), expected, unit)

    def test_month_end_and_leap_years(self):
        with freeze_time("2028-05-01"):
            subscription = self._subscription(date(2028, 1, 31))
            subscription._generate_orders()
        self.assertEqual(
            self._order_dates(subscription),
            [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)],
        )

    @freeze_time("2026-03-10")
    def test_orders_are_real_confirmed_orders_with_the_subscription_lines(self):
        subscription = self._subscription(date(2026, 3, 1))
        orders = subscription._generate_orders()
        self.assertRecordValues(
            orders,
            [
                {
                    "state": "sale",
                    "partner_id": self.customer.id,
                    "retention_subscription_id": subscription.id,
                    "retention_subscription_period": 0,
                    "amount_untaxed": 45.0,
                    "origin": subscription.name,
                }
            ],
        )
        self.assertEqual(subscription.next_date, date(2026, 4, 1))
        with self.assertRaises(UserError):
            orders.action_retention_make_subscription()

    @freeze_time("2026-03-10")
    def test_running_twice_or_after_a_crash_never_orders_a_period_twice(self):
        subscription = self._subscription(date(2026, 1, 10))
        subscription._generate_orders()
        self.assertEqual(len(subscription.order_ids), 3)
        subscription._generate_orders()
        self.assertEqual(len(subscription.order_ids), 3)
        # A crash after the orders were made but before the subscription moved on.
        subscription.next_period = 1
        subscription._generate_orders()
        self.assertEqual(len(subscription.order_ids), 3)
        self.assertEqual(subscription.next_period, 3)
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaisesRegex(UniqueViolation, "retention_subscription_period_unique"),
        ):
            self.env["sale.order"].create(
                {
                    "partner_id": self.customer.id,
                    "retention_subscription_id": subscription.id,
                    "retention_subscription_period": 1,
                }
            )

    @freeze_time("2026-03-10")
    def test_a_broken_subscription_is_skipped_and_logged(self):
        broken = self._subscription(date(2026, 3, 1))
        healthy = self._subscription(date(2026, 3, 1))
        self.filters.active = False
        broken.line_ids.filtered(lambda line: line.product_id == self.filters).unlink()
        healthy_lines = healthy.line_ids
        self.assertTrue(healthy_lines)
        broken.line_ids = [Command.create({"product_id": self.filters.id, "price_unit": 5.0})]
        self.Subscription._cron_generate_orders()
        self.assertEqual(len(broken.order_ids), 0)
        self.assertIn("Archived products", broken.last_error)
        self.assertEqual(broken.next_period, 0)
        self.assertEqual(len(healthy.order_ids), 0)  # it has the archived product too

    @freeze_time("2026-03-10")
    def test_cron_skips_only_the_broken_one(self):
        broken = self._subscription(date(2026, 3, 1))
        healthy = self._subscription(date(2026, 3, 1))
        blocked = self.env["res.partner"].create({"name": "Blocked", "sale_warn": "block"})
        broken.partner_id = blocked
        self.Subscription._cron_generate_orders()
        self.assertEqual(len(healthy.order_ids), 1)
        self.assertEqual(len(broken.order_ids), 0)
        self.assertIn("blocked", broken.last_error)

    @freeze_time("2026-03-10")
    def test_an_order_that_cannot_be_created_does_not_stop_the_others(self):
        healthy = self._subscription(date(2026, 3, 1))
        broken = self._subscription(date(2026, 3, 1))
        foreign = self.env["product.product"].create(
            {"name": "Foreign tea", "type": "service", "list_price": 3.0}
        )
        broken.line_ids = [Command.create({"product_id": foreign.id, "price_unit": 3.0})]
        foreign.company_id = self.env["res.company"].create({"name": "Tea Co"})
        with mute_logger("odoo.addons.retention_loyalty.models.retention_subscription"):
            (healthy | broken)._generate_orders()
        self.assertEqual(len(healthy.order_ids), 1)
        self.assertEqual(len(broken.order_ids), 0)
        self.assertIn("Foreign tea", broken.last_error)
        self.assertEqual(broken.error_date, date(2026, 3, 10))
        self.assertFalse(healthy.last_error)
        self.assertEqual((healthy.next_period, broken.next_period), (1, 0))

    def test_fixed_term_closes_after_its_last_period_and_reminds_before(self):
        with freeze_time("2026-01-01"):
            subscription = self._subscription(
                date(2026, 1, 1), max_periods=3, reminder_days=10, send_reminder_email=True
            )
        with freeze_time("2026-02-20"):
            self.Subscription._cron_send_reminders()
            self.assertTrue(subscription.reminder_done)
            self.assertEqual(subscription.activity_ids.date_deadline, date(2026, 3, 1))
            self.assertEqual(
                self.env["mail.mail"].search_count(
                    [("model", "=", "retention.subscription"), ("res_id", "=", subscription.id)]
                ),
                1,
            )
        with freeze_time("2026-05-01"):
            subscription._generate_orders()
        self.assertEqual(len(subscription.order_ids), 3)
        self.assertRecordValues(
            subscription,
            [
                {
                    "state": "closed",
                    "close_reason_id": self.env.ref(
                        "retention_loyalty.subscription_close_reason_term_ended"
                    ).id,
                }
            ],
        )

    def test_quantity_changes_apply_from_the_next_period(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription._generate_orders()
            subscription.line_ids[0].quantity = 5
        with freeze_time("2026-02-05"):
            subscription._generate_orders()
        first, second = subscription.order_ids.sorted("retention_subscription_period")
        self.assertEqual(first.amount_untaxed, 45.0)
        self.assertEqual(second.amount_untaxed, 105.0)

    @freeze_time("2026-03-10")
    def test_pricelist_mode_prices_each_order_from_the_pricelist(self):
        subscription = self._subscription(date(2026, 3, 1), price_mode="pricelist")
        self.coffee.list_price = 30.0
        order = subscription._generate_orders()
        self.assertEqual(order.amount_untaxed, 2 * 30.0 + 5.0)

    @freeze_time("2026-03-10")
    def test_a_database_error_is_logged_and_the_chatter_says_it_plainly(self):
        subscription = self._subscription(date(2026, 3, 1))
        Subscription = self.registry["retention.subscription"]
        order_values = Subscription._order_values

        def out_of_range(record, period):
            return {**order_values(record, period), "retention_subscription_period": 2**31}

        with (
            patch.object(Subscription, "_order_values", out_of_range),
            self.assertLogs(SUBSCRIPTION_LOGGER, level="ERROR") as logs,
            mute_logger("odoo.sql_db"),
        ):
            subscription._generate_orders()
        self.assertIn("out of range", "\n".join(logs.output))
        self.assertFalse(subscription.order_ids)
        self.assertEqual(subscription.error_date, date(2026, 3, 10))
        self.assertIn("technical error", subscription.last_error)
        self.assertNotIn("out of range", subscription.last_error)
        body = subscription.message_ids[:1].body
        self.assertIn("technical error", body)
        self.assertNotIn("out of range", body)

    @freeze_time("2026-03-10")
    def test_one_customer_s_subscriptions_share_a_cron_shard(self):
        """Two cron workers never order for one customer (one loyalty card,
        one set of clubs) at the same time."""
        first = self._subscription(date(2026, 3, 1))
        second = self._subscription(date(2026, 3, 1))
        self.assertNotEqual(first.id % 2, second.id % 2)
        own_shard = self.customer.id % 2
        self.Subscription._cron_generate_orders(shard=1 - own_shard, shards=2)
        self.assertFalse((first | second).order_ids)
        self.Subscription._cron_generate_orders(shard=own_shard, shards=2)
        self.assertEqual(len(first.order_ids), 1)
        self.assertEqual(len(second.order_ids), 1)

    def test_term_ended_reason_is_kept_and_fixed_terms_close_without_it(self):
        term_ended = self.env.ref("retention_loyalty.subscription_close_reason_term_ended")
        with self.assertRaises(UserError):
            term_ended.unlink()
        term_ended.active = False  # archiving is allowed: it still closes fixed terms
        with freeze_time("2026-01-01"):
            archived_reason = self._subscription(date(2026, 1, 1), max_periods=1)
        with freeze_time("2026-02-01"):
            self.Subscription._cron_generate_orders()
        self.assertRecordValues(
            archived_reason, [{"state": "closed", "close_reason_id": term_ended.id}]
        )
        # Gone all the same (removed in the database): the crons still close them.
        self.env.flush_all()
        self.env.cr.execute(
            "DELETE FROM retention_subscription_close_reason WHERE id = %s", [term_ended.id]
        )
        self.env.invalidate_all()
        with freeze_time("2026-01-01"):
            fixed = self._subscription(date(2026, 1, 1), max_periods=2)
            paused = self._subscription(date(2026, 1, 1), date_end=date(2026, 2, 1))
            paused.action_pause()
        with freeze_time("2026-03-01"):
            self.Subscription._cron_generate_orders()
            self.Subscription._cron_send_reminders()
        self.assertEqual(len(fixed.order_ids), 2)
        self.assertRecordValues(
            fixed | paused,
            [
                {"state": "closed", "close_reason_id": False, "date_closed": date(2026, 3, 1)},
                {"state": "closed", "close_reason_id": False, "date_closed": date(2026, 3, 1)},
            ],
        )


@tagged("post_install", "-at_install")
class TestSubscriptionLifecycle(SubscriptionCase):
    def test_bad_input_is_refused(self):
        for values in (
            {"interval": 0},
            {"interval": -2},
            {"date_end": date(2025, 12, 1)},
            {"max_periods": -1},
        ):
            with self.assertRaises(ValidationError):
                self._subscription(date(2026, 1, 1), activate=False, **values)
        subscription = self._subscription(date(2026, 1, 1), activate=False)
        subscription.line_ids = [Command.clear()]
        with self.assertRaises(UserError):
            subscription.action_activate()

    def test_pause_skips_periods_and_resume_continues(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription._generate_orders()
            subscription.action_pause()
        with freeze_time("2026-04-15"):
            subscription._generate_orders()
            self.assertEqual(len(subscription.order_ids), 1)
            subscription.action_resume()
            self.assertEqual(subscription.next_date, date(2026, 5, 1))
        with freeze_time("2026-05-02"):
            subscription._generate_orders()
        self.assertEqual(self._order_dates(subscription), [date(2026, 1, 1), date(2026, 5, 1)])
        self.assertEqual(
            subscription.event_ids.sorted("id").mapped("kind"), ["start", "pause", "resume"]
        )

    def test_paused_past_its_end_cannot_resume(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1), date_end=date(2026, 3, 1))
            subscription.action_pause()
        with freeze_time("2026-04-01"), self.assertRaises(UserError):
            subscription.action_resume()

    def test_close_with_reason_reopen_and_churn_figures(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1))
            self.assertEqual(subscription.mrr, 45.0)
        with freeze_time("2026-02-10"):
            wizard = self.env["retention.subscription.close.wizard"].create(
                {
                    "subscription_ids": [Command.set(subscription.ids)],
                    "close_reason_id": self.reason.id,
                }
            )
            wizard.action_apply()
        self.assertRecordValues(
            subscription,
            [
                {
                    "state": "closed",
                    "close_reason_id": self.reason.id,
                    "date_closed": date(2026, 2, 10),
                }
            ],
        )
        churn = self.env["retention.subscription.event"].search(
            [("subscription_id", "=", subscription.id), ("kind", "=", "close")]
        )
        self.assertRecordValues(churn, [{"churned_mrr": 45.0, "close_reason_id": self.reason.id}])
        groups = self.env["retention.subscription.event"]._read_group(
            [("kind", "=", "close"), ("subscription_id", "=", subscription.id)],
            ["date:month", "close_reason_id"],
            ["churned_mrr:sum", "__count"],
        )
        self.assertEqual(
            [(reason, total, count) for _month, reason, total, count in groups],
            [(self.reason, 45.0, 1)],
        )
        with freeze_time("2026-03-15"):
            subscription.action_reopen()
            self.assertEqual(subscription.state, "active")
            self.assertEqual(subscription.next_date, date(2026, 4, 1))

    def test_mrr_is_normalised_to_months(self):
        yearly = self._subscription(date(2026, 1, 1), 1, "year", activate=False)
        quarterly = self._subscription(date(2026, 1, 1), 3, "month", activate=False)
        weekly = self._subscription(date(2026, 1, 1), 1, "week", activate=False)
        self.assertAlmostEqual(yearly.mrr, 45.0 / 12)
        self.assertAlmostEqual(quarterly.mrr, 15.0)
        self.assertAlmostEqual(weekly.mrr, 45.0 * 365.2425 / 12 / 7, places=2)

    @freeze_time("2026-03-10")
    def test_make_it_a_subscription_from_a_confirmed_order(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create({"product_id": self.coffee.id, "product_uom_qty": 3})
                ],
            }
        )
        order.action_confirm()
        wizard = self.env["retention.subscription.make.wizard"].create(
            {"order_id": order.id, "interval": 2, "interval_unit": "week"}
        )
        self.assertEqual(wizard.date_start, date(2026, 3, 24))
        action = wizard.action_apply()
        subscription = self.Subscription.browse(action["res_id"])
        self.assertRecordValues(
            subscription,
            [{"state": "active", "origin_order_id": order.id, "next_date": date(2026, 3, 24)}],
        )
        self.assertEqual(subscription.line_ids.quantity, 3)
        self.assertEqual(order.retention_subscription_count, 1)


@tagged("post_install", "-at_install")
class TestSubscriptionAccess(SubscriptionCase):
    def test_portal_customers_see_and_manage_only_their_own(self):
        mine = self._subscription(date(2026, 1, 1))
        other_customer = self.env["res.partner"].create({"name": "Someone else"})
        theirs = self._subscription(date(2026, 1, 1), partner_id=other_customer.id)
        portal_user = new_test_user(
            self.env, login="rl_sub_portal", groups="base.group_portal", partner_id=self.customer.id
        )
        visible = self.Subscription.with_user(portal_user).search([])
        self.assertEqual(visible, mine)
        with self.assertRaises(AccessError):
            theirs.with_user(portal_user).read(["name"])
        with self.assertRaises(AccessError):
            mine.with_user(portal_user).write({"auto_confirm": False})

    def test_salespeople_and_companies(self):
        salesman = new_test_user(
            self.env, login="rl_sub_salesman", groups="sales_team.group_sale_salesman"
        )
        own = self._subscription(date(2026, 1, 1), user_id=salesman.id)
        self._subscription(date(2026, 1, 1), user_id=self.env.uid)
        self.assertEqual(self.Subscription.with_user(salesman).search([]), own)
        other_company = self.env["res.company"].create({"name": "Other Subscriptions Co"})
        outsider = new_test_user(
            self.env,
            login="rl_sub_outsider",
            groups="sales_team.group_sale_manager",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.assertFalse(self.Subscription.with_user(outsider).search([]))

    def test_portal_customers_see_neither_drafts_nor_internal_fields(self):
        running = self._subscription(date(2026, 1, 1))
        draft = self._subscription(date(2026, 1, 1), activate=False)
        portal_user = new_test_user(
            self.env,
            login="rl_sub_portal_fields",
            groups="base.group_portal",
            partner_id=self.customer.id,
        )
        self.assertEqual(self.Subscription.with_user(portal_user).search([]), running)
        with self.assertRaises(AccessError):
            draft.with_user(portal_user).read(["name"])
        with self.assertRaises(AccessError):
            draft.line_ids.with_user(portal_user).read(["price_unit"])
        self.assertEqual(running.with_user(portal_user).read(["name"])[0]["name"], running.name)
        for field in ("last_error", "error_date", "close_note", "mrr"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                running.with_user(portal_user).read([field])

    def test_subscriptions_follow_sales_rights(self):
        retention_only = new_test_user(
            self.env,
            login="rl_sub_retention_only",
            groups="base.group_user,retention_loyalty.group_retention_user",
        )
        salesman = new_test_user(
            self.env, login="rl_sub_seller", groups="sales_team.group_sale_salesman"
        )
        values = {
            "partner_id": self.customer.id,
            "date_start": date(2026, 1, 1),
            "line_ids": [
                Command.create({"product_id": self.coffee.id, "quantity": 1, "price_unit": 1.0})
            ],
        }
        with self.assertRaises(AccessError):
            self.Subscription.with_user(retention_only).create(
                {**values, "user_id": retention_only.id}
            )
        assigned = self._subscription(date(2026, 1, 1), user_id=retention_only.id)
        self.assertEqual(self.Subscription.with_user(retention_only).search([]), assigned)
        with self.assertRaises(AccessError):
            assigned.line_ids[0].with_user(retention_only).price_unit = 1.0
        with self.assertRaises(AccessError):
            assigned.with_user(retention_only).action_pause()
        own = self.Subscription.with_user(salesman).create({**values, "user_id": salesman.id})
        own.line_ids.price_unit = 18.0
        own.action_activate()
        self.assertEqual((own.state, own.amount_per_period), ("active", 18.0))
        with self.assertRaises(AccessError):
            self.Subscription.with_user(salesman).create({**values, "user_id": retention_only.id})

    @freeze_time("2026-03-10")
    def test_generation_queries_grow_linearly(self):
        """A batch of the subscription cron: a fixed cost and a fixed cost per
        order (each order is confirmed as a user would)."""

        def queries_for(count, budget=None):
            subscriptions = self.Subscription.browse()
            for _index in range(count):
                subscriptions |= self._subscription(date(2026, 3, 1))
            self.env.flush_all()
            self.env.invalidate_all()
            if budget is None:
                subscriptions._generate_orders()
                return None
            with self.assertQueryCount(budget):
                before = self.env.cr.sql_log_count
                subscriptions._generate_orders()
                self.env.flush_all()
                self.assertEqual(len(subscriptions.order_ids), count)
                return self.env.cr.sql_log_count - before

        queries_for(1)  # warm-up
        # Inventory adds two queries to the batch and one per order; the
        # eCommerce one to the batch. The batch's incentive costs and line
        # costs are one statement.
        extra = inventory_queries(self.env)
        batch = website_sale_queries(self.env)
        two, six, ten = (
            queries_for(2, 71 + extra * 4 + batch),
            queries_for(6, 123 + extra * 8 + batch),
            queries_for(10, 175 + extra * 12 + batch),
        )
        self.assertEqual(six - two, ten - six)


@tagged("post_install", "-at_install")
class TestSubscriptionCurrencies(SubscriptionCase):
    def test_mrr_of_a_foreign_price_list_is_in_company_currency(self):
        other = self.env["res.currency"].search(
            [("id", "!=", self.company.currency_id.id), ("active", "in", [True, False])], limit=1
        )
        other.active = True
        self.env["res.currency.rate"].create(
            {
                "currency_id": other.id,
                "rate": 2.0,
                "name": "2026-01-01",
                "company_id": self.company.id,
            }
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "Foreign", "currency_id": other.id}
        )
        with freeze_time("2026-03-10"):
            subscription = self._subscription(date(2026, 3, 1), pricelist_id=pricelist.id)
            self.assertEqual(subscription.amount_per_period, 45.0)
            self.assertAlmostEqual(subscription.mrr, 22.5)
            order = subscription._generate_orders()
        self.assertEqual(order.currency_id, other)

    def test_paused_past_the_end_closes(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1), date_end=date(2026, 3, 1))
            subscription.action_pause()
        with freeze_time("2026-04-01"):
            self.Subscription._cron_send_reminders()
        self.assertEqual(subscription.state, "closed")


@tagged("post_install", "-at_install")
class TestSubscriptionGuards(SubscriptionCase):
    def test_started_recurrence_is_fixed_and_frozen_prices_stay(self):
        subscription = self._subscription(date(2026, 1, 1))
        with self.assertRaises(UserError):
            subscription.interval_unit = "week"
        line = subscription.line_ids[0]
        line.price_unit = 12.0
        line.quantity = 4
        self.assertEqual(line.price_unit, 12.0)

    def test_churn_of_a_paused_subscription_counts_once_and_drafts_cannot_close(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription.action_pause()
            subscription._close(self.reason)
        self.assertAlmostEqual(sum(subscription.event_ids.mapped("mrr_change")), 0.0)
        self.assertAlmostEqual(sum(subscription.event_ids.mapped("churned_mrr")), 0.0)
        draft = self._subscription(date(2026, 1, 1), activate=False)
        with self.assertRaises(UserError):
            draft._close(self.reason)

    def test_fixed_term_closes_when_its_term_is_over(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1), max_periods=2)
        with freeze_time("2026-02-10"):
            subscription._generate_orders()
            self.assertEqual(subscription.state, "active")  # February is still paid for
        with freeze_time("2026-03-01"):
            subscription._generate_orders()
        self.assertEqual(subscription.state, "closed")
        self.assertEqual(len(subscription.order_ids), 2)


@tagged("post_install", "-at_install")
class TestSubscriptionReport(SubscriptionCase):
    def test_months_of_subscriptions_with_large_ids_can_be_listed(self):
        self.env.cr.execute("SELECT last_value, is_called FROM retention_subscription_id_seq")
        last_value, is_called = self.env.cr.fetchone()
        # Sequences are not transactional: put it back after the test.
        self.addCleanup(
            self.env.cr.execute,
            "SELECT setval('retention_subscription_id_seq', %s, %s)",
            [last_value, is_called],
        )
        self.env.cr.execute(
            "SELECT setval('retention_subscription_id_seq', %s)", [max(last_value, 21_500)]
        )
        with freeze_time("2026-03-15"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription._close(self.reason)
        self.assertGreater(subscription.id, 21_475)
        manager = new_test_user(
            self.env, login="rl_sub_report_manager", groups="sales_team.group_sale_manager"
        )
        Month = self.env["retention.subscription.month"].with_user(manager)
        domain = [("subscription_id", "=", subscription.id)]
        with self.env.cr.savepoint():
            rows = Month.search_read(domain, ["month", "mrr"], order="month")
        # Closed in March: no MRR at the end of March.
        self.assertEqual(
            [(row["month"], row["mrr"]) for row in rows],
            [(date(2026, 1, 1), 45.0), (date(2026, 2, 1), 45.0)],
        )
        ids = [row["id"] for row in rows]
        self.assertEqual(len(set(ids)), 2)
        self.assertEqual(Month.search(domain, order="month").ids, ids, "ids are stable")
        self.assertEqual(Month.browse(ids).mapped("subscription_id"), subscription)


@tagged("post_install", "-at_install")
class TestSubscriptionConcurrency(TransactionCase):
    """Real transactions: while subscription orders are made, another one
    holds the customer's loyalty card (the other cron shard, a salesperson
    confirming an order for the same customer)."""

    def _env(self):
        return own_cursor_env(self, mail_create_nolog=True)

    def setUp(self):
        super().setUp()
        env = self._env()
        program = make_points_program(env, "Subscription Points")
        partner = env["res.partner"].create({"name": "Busy Subscriber"})
        card = env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": partner.id, "points": 0}
        )
        product = make_product(env, "Busy coffee", 20.0)
        subscription = env["retention.subscription"].create(
            {
                "partner_id": partner.id,
                "date_start": env["retention.subscription"]._company_today(env.company),
                "line_ids": [Command.create({"product_id": product.id, "price_unit": 20.0})],
            }
        )
        subscription.action_activate()
        env.cr.commit()
        self.card_id, self.subscription_id = card.id, subscription.id
        self.addCleanup(self._remove, program.id, partner.id, card.id, product.id, subscription.id)

    def _remove(self, program_id, partner_id, card_id, product_id, subscription_id):
        env = self._env()
        env.cr.execute("DELETE FROM retention_points_entry WHERE card_id = %s", [card_id])
        env.cr.execute(
            "DELETE FROM sale_order WHERE retention_subscription_id = %s", [subscription_id]
        )
        env.cr.execute(
            "DELETE FROM mail_message WHERE model = 'retention.subscription' AND res_id = %s",
            [subscription_id],
        )
        env["retention.subscription"].browse(subscription_id).unlink()
        env["loyalty.card"].browse(card_id).unlink()
        program = env["loyalty.program"].browse(program_id)
        program.active = False
        program.unlink()
        env["product.product"].browse(product_id).product_tmpl_id.unlink()
        env["res.partner"].browse(partner_id).unlink()
        env.cr.commit()

    def _hold_card(self):
        """Lock the card as a transaction changing its balance does."""
        holder = self._env()
        holder.cr.execute(
            "SELECT id FROM loyalty_card WHERE id = %s FOR NO KEY UPDATE", [self.card_id]
        )
        return holder

    def test_a_busy_card_leaves_the_subscription_due_without_a_failure(self):
        holder = self._hold_card()
        env = self._env()
        subscription = env["retention.subscription"].browse(self.subscription_id)
        with mute_logger("odoo.sql_db", SUBSCRIPTION_LOGGER):
            orders = subscription._generate_orders()
        self.assertFalse(orders)
        self.assertRecordValues(
            subscription, [{"last_error": False, "error_date": False, "next_period": 0}]
        )
        self.assertFalse(subscription.order_ids)
        self.assertFalse(
            subscription.message_ids.filtered(lambda message: "order" in (message.body or ""))
        )
        # Once the card is free, the next run orders the period and earns its points.
        holder.cr.rollback()
        env.cr.rollback()
        orders = subscription._generate_orders()
        self.assertEqual(orders.state, "sale")
        self.assertEqual(subscription.next_period, 1)
        self.assertEqual(env["loyalty.card"].browse(self.card_id).points, 20.0)
        env.cr.rollback()

    def test_the_run_tries_again_on_fresh_data_once_the_card_is_free(self):
        holder = self._hold_card()
        env = self._env()
        subscription = env["retention.subscription"].browse(self.subscription_id)
        release = threading.Timer(0.5, holder.cr.rollback)

        def commit(record):
            record.env.cr.commit()
            return True

        with (
            patch.object(self.registry["retention.subscription"], "_fresh_snapshot", commit),
            mute_logger("odoo.sql_db", SUBSCRIPTION_LOGGER),
        ):
            release.start()
            orders, busy = subscription._order_with_retries()
        release.join()
        self.assertFalse(busy)
        self.assertEqual(orders.state, "sale")
        self.assertRecordValues(subscription, [{"last_error": False, "next_period": 1}])
        env.cr.rollback()


@tagged("post_install", "-at_install")
class TestSubscriptionMonths(SubscriptionCase):
    """Subscriptions over Time counts what the subscriptions list counts:
    MRR of the subscriptions running at the end of each month; paused and
    closed ones bring none. (The report reads the database's date: the
    months are taken around the real today.)"""

    def test_paused_and_closed_months_bring_no_mrr(self):
        this_month = date.today().replace(day=1)
        m1, m2, m3 = (this_month - relativedelta(months=n) for n in (1, 2, 3))
        running = self._subscription(m3)
        with freeze_time(m3):
            paused = self._subscription(m3)
            pause_and_resume = self._subscription(m3)
            closed = self._subscription(m3)
        with freeze_time(m2 + relativedelta(days=3)):
            pause_and_resume.action_pause()
        with freeze_time(m1 + relativedelta(days=3)):
            pause_and_resume.action_resume()
        with freeze_time(m1 + relativedelta(days=5)):
            paused.action_pause()
        with freeze_time(m1 + relativedelta(days=10)):
            closed._close(self.reason)
        subscriptions = running | paused | pause_and_resume | closed
        self.assertEqual(set(subscriptions.mapped("mrr")), {45.0})
        manager = new_test_user(
            self.env, login="rl_sub_month_manager", groups="sales_team.group_sale_manager"
        )
        Month = self.env["retention.subscription.month"].with_user(manager)
        rows = Month.search_read(
            [("subscription_id", "in", subscriptions.ids)], ["month", "subscription_id"]
        )
        months = {
            subscription: sorted(
                row["month"] for row in rows if row["subscription_id"][0] == subscription.id
            )
            for subscription in subscriptions
        }
        self.assertEqual(months[running], [m3, m2, m1, this_month])
        self.assertEqual(months[paused], [m3, m2])
        self.assertEqual(months[pause_and_resume], [m3, m1, this_month])
        self.assertEqual(months[closed], [m3, m2])
        # This month's MRR is the total of the Active subscriptions on the list.
        (this_month_mrr,) = Month._read_group(
            [("subscription_id", "in", subscriptions.ids), ("month", "=", this_month)],
            [],
            ["mrr:sum"],
        )[0]
        active = self.Subscription.with_user(manager).search(
            [("id", "in", subscriptions.ids), ("state", "=", "active")]
        )
        self.assertEqual(active, running | pause_and_resume)
        self.assertEqual(this_month_mrr, sum(active.mapped("mrr")))
