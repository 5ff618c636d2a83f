from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.retention_loyalty.tests.common import make_order, make_product


@tagged("post_install", "-at_install")
class TestEventInvitationEffect(TransactionCase):
    """Attendees, no-shows, those who never registered and the control
    group of an event invitation, with figures counted by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = make_product(cls.env, "Effect coffee", 10.0)
        cls.event = cls.env["event.event"].create(
            {
                "name": "Roastery open day",
                "date_begin": datetime(2026, 5, 10, 9),
                "date_end": datetime(2026, 5, 10, 17),
            }
        )
        cls.playbook = cls.env["retention.playbook"].create(
            {
                "name": "Open day invitation",
                "trigger": "no_contact",
                "trigger_days": 60,
                "control_percent": 20,
                "effect_window_days": 30,
                "action_ids": [Command.create({"kind": "event", "event_id": cls.event.id})],
            }
        )
        names = [
            "Attended 1",
            "Attended 2",
            "No-show",
            "Never registered",
            "Control 1",
            "Control 2",
        ]
        cls.partners = dict(
            zip(names, cls.env["res.partner"].create([{"name": n} for n in names]), strict=True)
        )

    def _run(self, name, day=date(2026, 5, 1), control=False, order=None):
        return self.env["retention.playbook.run"].create(
            {
                "playbook_id": self.playbook.id,
                "partner_id": self.partners[name].id,
                "date": day,
                "in_control": control,
                "state": "control" if control else "done",
                "email_sent": not control,
                "order_id": order.id if order else False,
            }
        )

    def _order(self, name, amount, day):
        return make_order(self.env, self.partners[name], self.product, amount, day=day)

    @freeze_time("2026-07-01")
    def test_effect_by_attendance(self):
        p = self.partners
        registrations = self.env["event.registration"].create(
            [
                {"event_id": self.event.id, "partner_id": p["Attended 1"].id},
                {"event_id": self.event.id, "partner_id": p["Attended 2"].id},
                {"event_id": self.event.id, "partner_id": p["No-show"].id},
                {"event_id": self.event.id, "partner_id": p["Never registered"].id},
            ]
        )
        registrations[:2].action_set_done()
        registrations[3].action_cancel()
        trigger = self._order("Attended 2", 999.0, date(2026, 5, 1))
        for name in ("Attended 1", "No-show", "Never registered"):
            self._run(name)
        self._run("Attended 2", order=trigger)
        self._run("Control 1", control=True)
        self._run("Control 2", control=True)
        # Still in its window (until 20 July): not measured.
        self._run("Control 2", day=date(2026, 6, 20), control=True)
        self._order("Attended 1", 100.0, date(2026, 5, 12))
        self._order("Attended 1", 50.0, date(2026, 5, 31))  # the window's last day
        self._order("No-show", 80.0, date(2026, 5, 20))
        self._order("Never registered", 70.0, date(2026, 6, 1))  # a day too late
        self._order("Control 1", 40.0, date(2026, 5, 3))
        self.env.flush_all()
        rows = self.env["retention.event.effect"].search([("playbook_id", "=", self.playbook.id)])
        figures = {
            row.attendance: (
                row.customers,
                row.reordered,
                row.reorder_rate,
                row.revenue,
                row.revenue_per_customer,
            )
            for row in rows
        }
        action = self.playbook.action_view_event_effect()
        self.assertEqual(
            set(self.env["retention.event.effect"].search(action["domain"]).ids), set(rows.ids)
        )
        self.assertTrue(self.playbook.invites_to_event)
        self.assertEqual(
            figures,
            {
                # Attended 1 reordered for 150; Attended 2's triggering order does not count.
                "attended": (2, 1, 0.5, 150.0, 75.0),
                "no_show": (1, 1, 1.0, 80.0, 80.0),
                "not_registered": (1, 0, 0.0, 0.0, 0.0),
                "control": (2, 1, 0.5, 40.0, 20.0),
            },
        )

    @freeze_time("2026-05-05")
    def test_nothing_is_measured_before_the_event_is_over(self):
        self.playbook.effect_window_days = 1
        self._run("No-show", day=date(2026, 5, 1))
        self.assertFalse(
            self.env["retention.event.effect"].search([("playbook_id", "=", self.playbook.id)])
        )

    def test_only_retention_administrators_read_it(self):
        salesman = new_test_user(
            self.env, login="rl_effect_salesman", groups="sales_team.group_sale_salesman"
        )
        self.assertFalse(self.env["retention.event.effect"].with_user(salesman).has_access("read"))
