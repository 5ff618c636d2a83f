from datetime import datetime

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

from odoo.addons.retention_loyalty.tests.bonus_common import (
    BonusRaceMixin,
    bonus_entries,
    make_bonus_program,
)


def make_event(env, name, day):
    return env["event.event"].create(
        {
            "name": name,
            "date_begin": datetime(day.year, day.month, day.day, 9),
            "date_end": datetime(day.year, day.month, day.day, 17),
        }
    )


@tagged("post_install", "-at_install")
class TestEventBonus(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = make_bonus_program(cls.env, "Event Club", event=30)
        cls.guest = cls.env["res.partner"].create({"name": "Guest", "email": "guest@example.com"})

    def _register(self, event, **values):
        return self.env["event.registration"].create(
            {"event_id": event.id, "partner_id": self.guest.id, **values}
        )

    def test_attendance_gives_the_bonus_once_per_year(self):
        with freeze_time("2026-06-01"):
            seminar = make_event(self.env, "Seminar", datetime(2026, 6, 10))
            tasting = make_event(self.env, "Tasting", datetime(2026, 9, 10))
            first = self._register(seminar)
            second = self._register(tasting)
            # Registered is not attended.
            self.assertEqual(first.state, "open")
            self.assertFalse(bonus_entries(self.env, self.guest, "event"))
        with freeze_time("2026-06-10"):
            first.action_set_done()
            [entry] = bonus_entries(self.env, self.guest, "event")
            self.assertEqual(
                (entry.points, entry.bonus_period, entry.kind), (30.0, "2026", "bonus")
            )
        with freeze_time("2026-09-10"):
            second.action_set_done()
            self.assertEqual(len(bonus_entries(self.env, self.guest, "event")), 1)
        with freeze_time("2027-02-01"):
            # A registration made attended at once, the next year: the bonus again.
            fair = make_event(self.env, "Fair", datetime(2027, 2, 1))
            self._register(fair, state="done")
        self.assertEqual(
            bonus_entries(self.env, self.guest, "event").mapped("bonus_period"), ["2026", "2027"]
        )
        card = self.env["loyalty.card"].search(
            [("partner_id", "=", self.guest.id), ("program_id", "=", self.program.id)]
        )
        self.assertEqual(card.points, 60.0)

    def test_cancelled_or_anonymous_registrations_give_nothing(self):
        with freeze_time("2026-06-01"):
            seminar = make_event(self.env, "Seminar", datetime(2026, 6, 10))
            registration = self._register(seminar)
            registration.action_cancel()
            anonymous = self.env["event.registration"].create(
                {"event_id": seminar.id, "name": "Walk-in"}
            )
            anonymous.action_set_done()
        self.assertFalse(
            self.env["retention.points.entry"].search([("bonus_source", "=", "event")])
        )


@tagged("post_install", "-at_install")
class TestEventBonusRace(BonusRaceMixin, TransactionCase):
    """Two workers mark two registrations of the same customer attended."""

    bonus_source = "event"

    def _set_up_committed(self, env):
        events = env["event.event"].create(
            [
                {
                    "name": f"Race event {worker}",
                    "date_begin": datetime(2026, 6, 30, 9),
                    "date_end": datetime(2026, 6, 30, 17),
                }
                for worker in "ab"
            ]
        )
        self.event_ids = events.ids
        self.registration_ids = (
            env["event.registration"]
            .create([{"event_id": event.id, "partner_id": self.partner_id} for event in events])
            .ids
        )

    def _remove_committed(self, env):
        env["event.registration"].browse(self.registration_ids).unlink()
        env["event.event"].browse(self.event_ids).unlink()

    def _give(self, env, worker):
        env["event.registration"].browse(self.registration_ids[worker == "b"]).action_set_done()
