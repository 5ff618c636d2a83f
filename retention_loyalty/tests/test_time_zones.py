"""Days in a time zone where "today" is not UTC's: at 20:00 UTC it is already
the next day in Auckland (UTC+13 in summer, +12 in winter)."""

from datetime import date

from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .test_playbooks import PlaybookCase
from .test_points import PointsCase

AUCKLAND = "Pacific/Auckland"


@tagged("post_install", "-at_install")
class TestPlaybookDayInAuckland(PlaybookCase):
    def test_run_now_follows_the_day_of_the_administrator(self):
        """A birthday playbook run by hand covers the administrator's today:
        in Auckland the 1st of April has begun while UTC is still on the 31st."""
        utc_manager, auckland_manager = (
            new_test_user(
                self.env,
                login=f"rl_tz_playbook_{name}",
                groups="retention_loyalty.group_retention_manager",
                tz=tz,
            )
            for name, tz in (("utc", "UTC"), ("auckland", AUCKLAND))
        )
        self.customer.retention_birthday = date(1990, 4, 1)
        playbook = self._playbook("birthday", trigger_days=0, cooldown_days=0)
        playbook.last_evaluated = date(2026, 3, 30)
        with freeze_time("2026-03-31 20:00:00"):
            playbook.with_user(utc_manager).action_run_now()
            self.assertEqual(playbook.last_evaluated, date(2026, 3, 31))
            self.assertFalse(self._activities(playbook), "31 March in UTC: no birthday yet")
            playbook.with_user(auckland_manager).action_run_now()
        self.assertEqual(playbook.last_evaluated, date(2026, 4, 1))
        run = self.Run.search([("playbook_id", "=", playbook.id)])
        self.assertRecordValues(run, [{"partner_id": self.customer.id, "date": date(2026, 4, 1)}])
        self.assertEqual(len(self._activities(playbook)), 1)


@tagged("post_install", "-at_install")
class TestPointsExpiryInAuckland(PointsCase):
    def test_points_earned_on_the_local_day_expire_on_the_scheduled_run(self):
        auckland_seller = new_test_user(
            self.env,
            login="rl_tz_points_seller",
            groups="sales_team.group_sale_salesman",
            tz=AUCKLAND,
        )
        cron = self.env.ref("retention_loyalty.ir_cron_retention_expire_points")
        self.assertEqual(cron.code, "model._cron_expire_points()")
        # 09:00 on 10 January in Auckland.
        with freeze_time("2026-01-09 20:00:00"):
            order = self._quotation(100.0, user_id=auckland_seller.id).with_user(auckland_seller)
            order.action_confirm()
        card = self._card()
        earned = self._entries(card)
        self.assertRecordValues(
            earned,
            [
                {
                    "kind": "earn",
                    "points": 100,
                    "date": date(2026, 1, 10),
                    "expiry_date": date(2026, 7, 10),
                }
            ],
        )
        self.assertEqual(card.retention_next_expiry_date, date(2026, 7, 10))
        # The scheduled run (01:00 UTC, as the cron's user) of the day before
        # leaves them; the run on the expiry day takes them.
        with freeze_time("2026-07-09 01:00:00"):
            cron.method_direct_trigger()
        self.assertEqual(card.points, 100)
        with freeze_time("2026-07-10 01:00:00"):
            cron.method_direct_trigger()
        self.assertEqual(card.points, 0)
        expired = self._entries(card).filtered(lambda entry: entry.kind == "expire")
        self.assertRecordValues(expired, [{"points": -100, "date": date(2026, 7, 10)}])
        self.assertLedgerExact(card)
