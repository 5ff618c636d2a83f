from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import make_product
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


@tagged("post_install", "-at_install")
class TestSubscriptionProration(SubscriptionCase):
    """Changes applied now, prorated, worked out by hand: a monthly
    subscription from 1 January of 2 seats at 30.00 (a service) and a bag of
    coffee (goods); January has 31 days."""

    def setUp(self):
        super().setUp()
        self.company.retention_subscription_change_mode = "now"
        self.seat = make_product(self.env, "Seat", 30.0)
        self.goods = make_product(self.env, "Beans (goods)", 20.0)
        self.goods.type = "consu"
        with freeze_time("2026-01-02"):
            self.subscription = self._subscription(
                date(2026, 1, 1),
                line_ids=[
                    (0, 0, {"product_id": self.seat.id, "quantity": 2, "price_unit": 30.0}),
                    (0, 0, {"product_id": self.goods.id, "quantity": 1, "price_unit": 20.0}),
                ],
            )
            self.subscription._generate_orders()

    def _line(self, product):
        return self.subscription.line_ids.filtered(lambda line: line.product_id == product)

    def _adjustments(self):
        return self.env["sale.order"].search(
            [("retention_subscription_change_id", "=", self.subscription.id)], order="id"
        )

    def test_more_seats_are_charged_for_the_rest_of_the_period(self):
        with freeze_time("2026-01-11"):
            self.subscription._set_quantities({self._line(self.seat): 3.0})
        order = self._adjustments()
        # One more seat for 21 of January's 31 days: 30.00 x 21 / 31 = 20.32.
        self.assertRecordValues(order, [{"state": "sale", "amount_untaxed": 20.32}])
        self.assertRecordValues(
            order.order_line,
            [{"product_id": self.seat.id, "product_uom_qty": 1.0, "price_unit": 20.32}],
        )
        self.assertFalse(order.retention_subscription_id, "not a period's order")
        # Fewer seats are credited: 2 seats for the last 11 days, 10.65 each.
        with freeze_time("2026-01-21"):
            self.subscription._set_quantities({self._line(self.seat): 1.0})
        credit = self._adjustments()[1:]
        self.assertRecordValues(credit, [{"amount_untaxed": -21.30}])
        self.assertEqual(credit.order_line.product_uom_qty, -2.0)
        # The next order has the new quantity at the full price.
        with freeze_time("2026-02-01"):
            self.subscription._generate_orders()
        february = self.subscription.order_ids.filtered(lambda o: o.date_order.month == 2)
        self.assertEqual(
            february.order_line.filtered(lambda line: line.product_id == self.seat).product_uom_qty,
            1.0,
        )

    def test_on_the_last_day_of_the_period_one_day_is_charged(self):
        with freeze_time("2026-01-31"):
            self.subscription._set_quantities({self._line(self.seat): 3.0})
        # 30.00 / 31 = 0.97.
        self.assertEqual(self._adjustments().amount_untaxed, 0.97)

    def test_a_new_service_and_a_removed_one_and_goods_that_wait(self):
        with freeze_time("2026-01-11"):
            self.subscription.write(
                {
                    "line_ids": [
                        (0, 0, {"product_id": self.filters.id, "quantity": 1, "price_unit": 31.0}),
                        (2, self._line(self.seat).id),
                    ]
                }
            )
            self.subscription._set_quantities({self._line(self.goods): 5.0})
        orders = self._adjustments()
        self.assertEqual(len(orders), 2, "one order per change, none for the goods")
        # + 31.00 x 21/31 = 21.00 for the new service, - 2 x 20.32 for the seats.
        self.assertEqual(sorted(orders.mapped("amount_untaxed")), [-40.64, 21.0])

    def test_from_the_next_order_charges_nothing_now(self):
        self.company.retention_subscription_change_mode = "next"
        with freeze_time("2026-01-11"):
            self.subscription._set_quantities({self._line(self.seat): 3.0})
        self.assertFalse(self._adjustments())

    def test_a_paused_subscription_or_a_period_not_ordered_yet_is_not_charged(self):
        with freeze_time("2026-02-01"):
            # February is due but not ordered yet: its order will have the change.
            self.subscription._set_quantities({self._line(self.seat): 3.0})
            self.assertFalse(self._adjustments())
            self.subscription._generate_orders()
            self.subscription.action_pause()
            self.subscription._set_quantities({self._line(self.seat): 4.0})
        self.assertFalse(self._adjustments())


@tagged("post_install", "-at_install")
class TestSubscriptionPriceNotice(SubscriptionCase):
    """Price increases wait for the notice: a monthly subscription from 1
    January at the price list's prices, 2 bags of coffee at 20.00, and 30
    days' notice."""

    def setUp(self):
        super().setUp()
        self.company.retention_price_notice_days = 30
        with freeze_time("2026-01-02"):
            self.subscription = self._subscription(date(2026, 1, 1), price_mode="pricelist")
            self.subscription._generate_orders()

    def _coffee_price(self, month):
        order = self.subscription.order_ids.filtered(lambda o: o.date_order.month == month)
        return order.order_line.filtered(lambda line: line.product_id == self.coffee).price_unit

    def test_an_increase_applies_from_the_first_order_after_the_notice(self):
        with freeze_time("2026-02-02"):
            self.subscription._generate_orders()
        self.coffee.list_price = 25.0
        with freeze_time("2026-02-10"):
            self.Subscription._cron_send_reminders()
            self.Subscription._cron_send_reminders()
        # 10 February + 30 days = 12 March: the first order after is April's.
        self.assertEqual(self.subscription.price_notice_period, 3)
        mails = self.env["mail.mail"].search(
            [("subject", "=", f"New prices for your subscription {self.subscription.name}")]
        )
        self.assertEqual(len(mails), 1, "announced once")
        self.assertIn("04/01/2026", mails.body_html)
        self.assertIn("25.00", mails.body_html)
        self.assertIn("20.00", mails.body_html)
        for day in ("2026-03-02", "2026-04-02"):
            with freeze_time(day):
                self.subscription._generate_orders()
        self.assertEqual([self._coffee_price(month) for month in (2, 3, 4)], [20.0, 20.0, 25.0])
        # A later increase is new: not announced, the last price holds.
        self.coffee.list_price = 30.0
        with freeze_time("2026-05-02"):
            self.subscription._generate_orders()
        self.assertEqual(self._coffee_price(5), 25.0)

    def test_without_notice_days_prices_change_at_once(self):
        self.company.retention_price_notice_days = 0
        self.coffee.list_price = 25.0
        with freeze_time("2026-02-02"):
            self.Subscription._cron_send_reminders()
            self.subscription._generate_orders()
        self.assertEqual(self._coffee_price(2), 25.0)
        self.assertEqual(self.subscription.price_notice_period, -1)

    def test_decreases_need_no_notice(self):
        self.coffee.list_price = 15.0
        with freeze_time("2026-02-02"):
            self.subscription._generate_orders()
        self.assertEqual(self._coffee_price(2), 15.0)
