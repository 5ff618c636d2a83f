from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_subscriptions import SubscriptionCase


@tagged("post_install", "-at_install")
class TestSubscriptionSelfService(SubscriptionCase):
    """What customers may do themselves: skip the next order, change
    quantities, renew a fixed term (the portal routes call these)."""

    def test_skipping_the_next_order_one_at_a_time(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription._generate_orders()
            self.assertEqual(subscription.next_date, date(2026, 2, 1))
            subscription.action_skip_next_order()
            self.assertEqual(subscription.next_date, date(2026, 3, 1))
            with self.assertRaisesRegex(UserError, "one order at a time"):
                subscription.action_skip_next_order()
            self.assertEqual(subscription.next_date, date(2026, 3, 1))
        with freeze_time("2026-03-02"):
            subscription._generate_orders()
            subscription.action_skip_next_order()  # March was ordered: April may go
        with freeze_time("2026-05-02"):
            subscription._generate_orders()
        self.assertEqual(
            self._order_dates(subscription), [date(2026, 1, 1), date(2026, 3, 1), date(2026, 5, 1)]
        )
        self.assertIn("is skipped", subscription.message_ids[-1:].body or "")

    def test_the_first_order_can_be_skipped(self):
        with freeze_time("2026-01-20"):
            subscription = self._subscription(date(2026, 2, 1))
            self.assertFalse(subscription._skip_refusal())
            subscription.action_skip_next_order()
        self.assertEqual(subscription.next_date, date(2026, 3, 1))

    def test_an_order_due_today_cannot_be_skipped(self):
        with freeze_time("2026-02-01"):
            subscription = self._subscription(date(2026, 2, 1))
            with self.assertRaisesRegex(UserError, "already being prepared"):
                subscription.action_skip_next_order()
            subscription.action_pause()
            with self.assertRaisesRegex(UserError, "Only running subscriptions"):
                subscription.action_skip_next_order()
        self.assertEqual(subscription.next_period, 0)

    def test_skipping_the_last_order_of_a_term_ends_it(self):
        with freeze_time("2026-02-10"):
            subscription = self._subscription(date(2026, 1, 1), max_periods=4)
            subscription._generate_orders()
        with freeze_time("2026-03-10"):
            subscription._generate_orders()
            subscription.action_skip_next_order()  # April, the last one
        with freeze_time("2026-04-20"):
            with self.assertRaisesRegex(UserError, "no order left to skip"):
                subscription.action_skip_next_order()
            self.Subscription._cron_generate_orders()
            self.assertEqual(subscription.state, "active", "the term runs until 30 April")
        with freeze_time("2026-05-01"):
            self.Subscription._cron_generate_orders()
        self.assertEqual(subscription.state, "closed")
        self.assertEqual(len(subscription.order_ids), 3)

    def test_quantities_change_from_the_next_order_and_bad_ones_change_nothing(self):
        subscription = self._subscription(date.today())
        coffee = subscription.line_ids.filtered(lambda line: line.product_id == self.coffee)
        filters = subscription.line_ids - coffee
        for bad in (0.0, -1.0):
            with self.subTest(bad=bad), self.assertRaisesRegex(UserError, "must be positive"):
                subscription._set_quantities({coffee: 3.0, filters: bad})
        self.assertEqual((coffee.quantity, filters.quantity), (2.0, 1.0))
        other = self._subscription(date.today())
        with self.assertRaisesRegex(UserError, "not in the subscription"):
            subscription._set_quantities({other.line_ids[0]: 5.0})
        subscription._set_quantities({coffee: 3.0, filters: 1.0})
        self.assertEqual((coffee.quantity, filters.quantity, subscription.mrr), (3.0, 1.0, 65.0))
        self.env.flush_all()
        self.env.cr.precommit.run()
        change = subscription.event_ids.filtered(lambda event: event.kind == "change")
        self.assertEqual((change.mrr_before, change.mrr_after), (45.0, 65.0))

    def test_renewing_a_fixed_term_by_confirming_the_renewal_quotation(self):
        with freeze_time("2026-03-10"):
            subscription = self._subscription(date(2026, 1, 1), max_periods=6)
            subscription._generate_orders()
            quotation = subscription._propose_renewal()
            self.assertEqual(subscription._propose_renewal(), quotation, "only one")
            self.assertRecordValues(
                quotation,
                [
                    {
                        "state": "draft",
                        "retention_subscription_renewal": True,
                        "retention_subscription_period": 6,
                        "require_signature": True,
                        "validity_date": date(2026, 6, 30),
                        "amount_untaxed": 45.0,
                    }
                ],
            )
            self.assertEqual(quotation.date_order.date(), date(2026, 7, 1))
            quotation.action_confirm()
            self.assertEqual((subscription.max_periods, subscription.term_periods), (12, 6))
            self.assertEqual(subscription._term_end(), date(2027, 1, 1))
        # The cron orders the months until then, the renewal's July only once.
        with freeze_time("2026-07-02"):
            subscription._generate_orders()
        july = subscription.order_ids.filtered(lambda order: order.date_order.month == 7)
        self.assertEqual(july, quotation)
        self.assertEqual(len(subscription.order_ids), 7)
        with freeze_time("2026-07-02"):
            renewal = subscription._propose_renewal()
        self.assertEqual(renewal.retention_subscription_period, 12)

    def test_renewing_an_end_date_and_what_cannot_be_renewed(self):
        with freeze_time("2026-03-10"):
            subscription = self._subscription(date(2026, 1, 1), date_end=date(2026, 6, 30))
            subscription._propose_renewal().action_confirm()
            self.assertEqual(subscription.date_end, date(2026, 12, 31))
            open_ended = self._subscription(date(2026, 1, 1))
            with self.assertRaisesRegex(UserError, "no term to renew"):
                open_ended._propose_renewal()
            self.assertFalse(open_ended.order_ids.filtered("retention_subscription_renewal"))
