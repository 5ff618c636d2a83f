from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, tagged

from .test_event_bonus import make_event


@tagged("post_install", "-at_install")
class TestEventCost(TransactionCase):
    """Each attendee costs the event's cost per attendee, for the playbook
    run that invited them; attendance undone, the cost goes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.guest = cls.env["res.partner"].create({"name": "Cost Guest", "email": "g@example.com"})
        cls.walk_in = cls.env["res.partner"].create({"name": "Walk-in", "email": "w@example.com"})
        with freeze_time("2026-06-01"):
            cls.event = make_event(cls.env, "Tasting", datetime(2026, 6, 10))
        cls.event.retention_cost_per_attendee = 35.0
        cls.playbook = cls.env["retention.playbook"].create(
            {
                "name": "Invite to the tasting",
                "trigger": "overdue",
                "control_percent": 0,
                "action_ids": [Command.create({"kind": "event", "event_id": cls.event.id})],
            }
        )
        cls.invite_run = cls.env["retention.playbook.run"].create(
            {
                "playbook_id": cls.playbook.id,
                "partner_id": cls.guest.id,
                "date": date(2026, 6, 1),
                "state": "done",
                "email_sent": True,
            }
        )
        cls.Cost = cls.env["retention.incentive.cost"]

    def _costs(self):
        return [
            (cost.partner_id, cost.amount, cost.playbook_run_id)
            for cost in self.Cost.search([("kind", "=", "event")], order="id")
        ]

    def test_attendees_cost_once_and_undone_attendance_costs_nothing(self):
        with freeze_time("2026-06-10"):
            invited, walk_in = self.env["event.registration"].create(
                [
                    {"event_id": self.event.id, "partner_id": self.guest.id},
                    {"event_id": self.event.id, "partner_id": self.walk_in.id},
                ]
            )
            self.assertEqual(self._costs(), [])  # registered is not attended
            (invited | walk_in).action_set_done()
            invited.action_set_done()  # again: counted once
        self.assertEqual(
            self._costs(),
            [(self.guest, 35.0, self.invite_run), (self.walk_in, 35.0, self.invite_run.browse())],
        )
        self.assertEqual(self.invite_run.realised_cost, 35.0)
        walk_in.action_cancel()
        self.assertEqual(self._costs(), [(self.guest, 35.0, self.invite_run)])
