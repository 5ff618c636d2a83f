from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import make_product


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
        with mute_logger("odoo.sql_db"), self.assertRaises(Exception):  # noqa: B017
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
        foreign = self.env["product.product"].create({"name": "Foreign tea", "list_price": 3.0})
        broken.line_ids = [Command.create({"product_id": foreign.id, "price_unit": 3.0})]
        foreign.company_id = self.env["res.company"].create({"name": "Tea Co"})
        with mute_logger("odoo.addons.retention_loyalty.models.retention_subscription"):
            (healthy | broken)._generate_orders()
        self.assertEqual(len(healthy.order_ids), 1)
        self.assertEqual(len(broken.order_ids), 0)
        self.assertTrue(broken.last_error)
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
            self.assertTrue(
                self.env["mail.mail"].search(
                    [("model", "=", "retention.subscription"), ("res_id", "=", subscription.id)]
                )
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

    @freeze_time("2026-03-10")
    def test_generation_queries_grow_linearly(self):
        def queries_for(count):
            subscriptions = self.Subscription.browse()
            for _index in range(count):
                subscriptions |= self._subscription(date(2026, 3, 1))
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            subscriptions._generate_orders()
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        queries_for(1)  # warm-up
        two, six, ten = queries_for(2), queries_for(6), queries_for(10)
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
