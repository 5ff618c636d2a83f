from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .test_subscriptions import SubscriptionCase


@tagged("post_install", "-at_install")
class TestSubscriptionPauseUntil(SubscriptionCase):
    """Pausing until a chosen day: the day is checked when pausing, the
    subscription resumes by itself on that day, and a resume by hand or a
    close forgets it."""

    def test_a_resume_date_that_is_not_after_today_is_refused_and_nothing_changes(self):
        with freeze_time("2026-03-10"):
            subscription = self._subscription(date(2026, 1, 1))
            for day in (date(2026, 3, 9), date(2026, 3, 10)):
                with self.subTest(day=day), self.assertRaises(ValidationError) as caught:
                    subscription.action_pause(resume_date=day)
                self.assertEqual(
                    caught.exception.args[0], "Choose a resume date after today (03/10/2026)."
                )
        self.assertRecordValues(subscription, [{"state": "active", "resume_date": False}])
        self.assertEqual(subscription.event_ids.mapped("kind"), ["start"])

    def test_a_resume_date_after_the_last_order_is_refused(self):
        with freeze_time("2026-03-10"):
            subscription = self._subscription(date(2026, 1, 1), max_periods=6)
            with self.assertRaises(ValidationError) as caught:
                subscription.action_pause(resume_date=date(2026, 6, 2))
            self.assertEqual(
                caught.exception.args[0],
                "The last order of this subscription is on 06/01/2026: choose an earlier resume "
                "date, or close it.",
            )
            self.assertEqual(subscription.state, "active")
            subscription.action_pause(resume_date=date(2026, 6, 1))
        self.assertRecordValues(
            subscription, [{"state": "paused", "resume_date": date(2026, 6, 1)}]
        )

    def test_it_resumes_by_itself_on_the_chosen_day(self):
        with freeze_time("2026-01-05"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription._generate_orders()
            subscription.action_pause(resume_date=date(2026, 3, 15))
        with freeze_time("2026-03-14"):
            self.Subscription._cron_send_reminders()
            self.assertEqual(subscription.state, "paused")
            self.assertEqual(subscription._next_date_if_resumed(), date(2026, 4, 1))
        with freeze_time("2026-03-15"):
            self.Subscription._cron_send_reminders()
            self.assertRecordValues(
                subscription,
                [{"state": "active", "resume_date": False, "next_date": date(2026, 4, 1)}],
            )
        with freeze_time("2026-04-02"):
            subscription._generate_orders()
        self.assertEqual(self._order_dates(subscription), [date(2026, 1, 1), date(2026, 4, 1)])
        self.assertEqual(
            subscription.event_ids.sorted("id").mapped("kind"), ["start", "pause", "resume"]
        )

    def test_resuming_or_closing_by_hand_forgets_the_resume_date(self):
        with freeze_time("2026-03-10"):
            resumed = self._subscription(date(2026, 1, 1))
            closed = self._subscription(date(2026, 1, 1))
            (resumed | closed).action_pause(resume_date=date(2026, 5, 1))
            resumed.action_resume()
            closed._close(self.reason)
        self.assertRecordValues(
            resumed | closed,
            [{"state": "active", "resume_date": False}, {"state": "closed", "resume_date": False}],
        )
        with freeze_time("2026-05-01"):
            self.Subscription._cron_send_reminders()
        self.assertEqual(closed.state, "closed")
        self.assertEqual(closed.event_ids.sorted("id").mapped("kind"), ["start", "pause", "close"])

    def test_pausing_a_paused_subscription_keeps_its_resume_date(self):
        with freeze_time("2026-03-10"):
            subscription = self._subscription(date(2026, 1, 1))
            subscription.action_pause(resume_date=date(2026, 5, 1))
            with self.assertRaises(UserError):
                subscription.action_pause(resume_date=date(2026, 6, 1))
        self.assertEqual(subscription.resume_date, date(2026, 5, 1))
