from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from ..engine.recurrence import Recurrence
from .test_subscription_billing import BillingCase, demo_token
from .test_subscriptions import SubscriptionCase

MONTHLY = Recurrence(1, "month")
EVERY_2_MONTHS = Recurrence(2, "month")
QUARTERLY = Recurrence(3, "month")
YEARLY = Recurrence(1, "year")
OFFERED = [MONTHLY, EVERY_2_MONTHS, QUARTERLY, YEARLY]


@tagged("post_install", "-at_install")
class TestSubscriptionRecurrenceChange(SubscriptionCase):
    """A customer (or the salesperson) changes how often a running
    subscription orders, from its next period on. Each order stays the same
    (2 x 20.00 + 5.00 = 45.00): it comes more or less often, the MRR follows."""

    def _mrr_changes(self, subscription):
        self.env.flush_all()
        self.env.cr.precommit.run()
        return [
            (event.mrr_before, event.mrr_after)
            for event in subscription.event_ids.filtered(lambda e: e.kind == "change")
        ]

    def _periods(self, subscription):
        return sorted(
            (order.retention_subscription_period, order.date_order.date())
            for order in subscription.order_ids
        )

    def test_monthly_to_quarterly_from_the_next_period(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription._generate_orders()
            self.assertEqual(subscription.mrr, 45.0)
            subscription._change_recurrence(QUARTERLY, allowed=OFFERED, author=self.customer)
            # The February order keeps its date and is the first of 3 months.
            self.assertEqual(subscription.next_date, date(2026, 2, 1))
            self.assertEqual((subscription.interval, subscription.interval_unit), (3, "month"))
            self.assertEqual(subscription.amount_per_period, 45.0)
            self.assertEqual(subscription.mrr, 15.0)  # 45.00 / 3
            self.assertEqual(self._mrr_changes(subscription), [(45.0, 15.0)])
            message = subscription.message_ids[0]
            self.assertEqual(message.author_id, self.customer)
            self.assertIn("from every month to every 3 months", message.body)
            self.assertIn("the next one is on 05/01/2026", message.body)
        with freeze_time("2026-02-02"):
            subscription._generate_orders()
            self.assertEqual(subscription.next_date, date(2026, 5, 1))
        with freeze_time("2026-08-02"):
            subscription._generate_orders()
        self.assertEqual(
            self._periods(subscription),
            [
                (0, date(2026, 1, 1)),
                (1, date(2026, 2, 1)),
                (2, date(2026, 5, 1)),
                (3, date(2026, 8, 1)),
            ],
        )
        self.assertEqual(set(subscription.order_ids.mapped("amount_untaxed")), {45.0})

    def test_a_subscription_of_the_31st_stays_on_month_ends(self):
        with freeze_time("2026-02-10"):
            subscription = self._subscription(date(2026, 1, 31))
            subscription._generate_orders()
            self.assertEqual(subscription.next_date, date(2026, 2, 28))
            subscription._change_recurrence(EVERY_2_MONTHS, allowed=OFFERED)
            self.assertEqual(subscription.mrr, 22.5)  # 45.00 / 2
        with freeze_time("2026-09-01"):
            subscription._generate_orders()
        self.assertEqual(
            self._periods(subscription),
            [
                (0, date(2026, 1, 31)),
                (1, date(2026, 2, 28)),
                (2, date(2026, 4, 30)),
                (3, date(2026, 6, 30)),
                (4, date(2026, 8, 31)),
            ],
        )

    def test_two_changes_on_the_last_day_of_a_period(self):
        with freeze_time("2026-01-31"):  # the January period's last day
            subscription = self._subscription(date(2026, 1, 1))
            subscription._generate_orders()
            subscription._change_recurrence(QUARTERLY, allowed=OFFERED)
            subscription._change_recurrence(YEARLY, allowed=OFFERED)
            # The second replaces the first: February starts a year.
            self.assertEqual(subscription.next_date, date(2026, 2, 1))
            self.assertEqual(
                subscription._recurrence().period_start(date(2026, 1, 1), 2), date(2027, 2, 1)
            )
            self.assertEqual(subscription.mrr, 3.75)  # 45.00 / 12
            # One MRR movement per transaction, from the MRR before the first change.
            self.assertEqual(self._mrr_changes(subscription), [(45.0, 3.75)])
            # Back to monthly in the same period: as if nothing had changed.
            subscription._change_recurrence(MONTHLY, allowed=OFFERED)
            self.assertFalse(subscription.recurrence_schedule)
            self.assertEqual(self._mrr_changes(subscription), [(45.0, 3.75), (3.75, 45.0)])
        with freeze_time("2026-03-02"):
            subscription._generate_orders()
        self.assertEqual(
            self._periods(subscription),
            [(0, date(2026, 1, 1)), (1, date(2026, 2, 1)), (2, date(2026, 3, 1))],
        )

    def test_refusals_change_nothing(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription._generate_orders()
            cases = [
                (Recurrence(6, "month"), "not offered. You can choose: Every month, Every 2"),
                (MONTHLY, "already recurs this way"),
                (Recurrence(0, "month"), "not a recurrence"),
            ]
            for recurrence, message in cases:
                with (
                    self.subTest(recurrence=recurrence),
                    self.assertRaisesRegex(UserError, message),
                ):
                    subscription._change_recurrence(recurrence, allowed=OFFERED)
        with freeze_time("2026-02-01"):
            # February's order is due and not made yet.
            with self.assertRaisesRegex(UserError, "The order of 02/01/2026 is due"):
                subscription._change_recurrence(QUARTERLY, allowed=OFFERED)
            subscription._generate_orders()
            subscription.action_pause()
            with self.assertRaisesRegex(UserError, "Only running subscriptions"):
                subscription._change_recurrence(QUARTERLY, allowed=OFFERED)
            subscription._close(self.reason)
            with self.assertRaisesRegex(UserError, "Only running subscriptions"):
                subscription._change_recurrence(QUARTERLY, allowed=OFFERED)
        self.assertEqual((subscription.interval, subscription.interval_unit), (1, "month"))
        self.assertFalse(subscription.recurrence_schedule)

    def test_the_past_periods_cannot_be_rewritten_by_a_plain_write(self):
        with freeze_time("2026-03-05"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription._generate_orders()
            with self.assertRaisesRegex(UserError, "use Change Recurrence"):
                subscription.write({"interval": 3})
            with self.assertRaisesRegex(UserError, "use Change Recurrence"):
                subscription.write({"interval": 3, "recurrence_schedule": False})
            with self.assertRaisesRegex(UserError, "start of a started subscription"):
                subscription.date_start = date(2026, 1, 2)
            draft = self._subscription(date(2026, 1, 1), activate=False)
            draft.interval = 2  # a draft still changes freely
        self.assertEqual(subscription.interval, 1)
        self.assertEqual(draft.next_period, 0)

    def test_the_salesperson_changes_it_from_the_form(self):
        salesman = new_test_user(
            self.env, login="rl_recurrence_salesman", groups="sales_team.group_sale_salesman"
        )
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1), user_id=salesman.id)
            subscription._generate_orders()
            action = subscription.with_user(salesman).action_change_recurrence()
            wizard = (
                self.env[action["res_model"]]
                .with_user(salesman)
                .with_context(**action["context"])
                .create({"interval": 6, "interval_unit": "month"})
            )
            wizard.action_apply()  # not in the customers' list: the salesperson may
        self.assertEqual(subscription.mrr, 7.5)
        self.assertEqual(
            subscription._recurrence().period_start(date(2026, 1, 1), 2), date(2026, 8, 1)
        )
        self.assertEqual(subscription.message_ids[0].author_id, salesman.partner_id)


@tagged("post_install", "-at_install")
class TestSubscriptionRecurrenceBilling(BillingCase):
    """The charges of the periods (unique per subscription and period) never
    collide across a change; an open payment blocks it."""

    def test_charges_keep_their_periods_across_a_change(self):
        with freeze_time("2026-06-10"):
            subscription = self._subscription(token=demo_token(self.env, self.customer, "done"))
            subscription._generate_orders()
            subscription._change_recurrence(EVERY_2_MONTHS)
        with freeze_time("2026-09-02"):
            subscription._generate_orders()
        self.assertEqual(
            sorted(
                (charge.period, charge.state, charge.invoice_id.invoice_date)
                for charge in subscription.charge_ids
            ),
            [
                (0, "done", date(2026, 6, 1)),
                (1, "done", date(2026, 7, 1)),
                (2, "done", date(2026, 9, 1)),
            ],
        )

    def test_an_open_payment_blocks_the_change(self):
        with freeze_time("2026-06-10"):
            subscription = self._subscription(token=demo_token(self.env, self.customer, "error"))
            subscription._generate_orders()
            self.assertEqual(subscription.charge_ids.state, "failed")
            with self.assertRaisesRegex(UserError, "payment of this subscription is still open"):
                subscription._change_recurrence(QUARTERLY)
            unbilled = self._subscription(policy="posted")  # an invoice to pay by hand
            unbilled._generate_orders()
            self.assertEqual(unbilled.invoice_ids.payment_state, "not_paid")
            with self.assertRaisesRegex(UserError, "payment of this subscription is still open"):
                unbilled._change_recurrence(QUARTERLY)
        self.assertEqual(subscription.interval, 1)
