from datetime import datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestEventAction(TransactionCase):
    def _playbook(self, event):
        return self.env["retention.playbook"].create(
            {
                "name": "Seminar invitation",
                "trigger": "order_confirmed",
                "control_percent": 0,
                "action_ids": [Command.create({"kind": "event", "event_id": event.id})],
            }
        )

    def _confirm_order(self, partner):
        product = self.env["product.product"].create({"name": "Event coffee", "list_price": 5})
        order = self.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create({"product_id": product.id})]}
        )
        order.action_confirm()

    @freeze_time("2026-06-01")
    def test_customers_are_invited_by_email(self):
        event = self.env["event.event"].create(
            {
                "name": "Coffee roasting seminar",
                "date_begin": datetime(2026, 7, 1, 9),
                "date_end": datetime(2026, 7, 1, 17),
            }
        )
        playbook = self._playbook(event)
        guest = self.env["res.partner"].create({"name": "Guest", "email": "guest@example.com"})
        self._confirm_order(guest)
        run = self.env["retention.playbook.run"].search([("playbook_id", "=", playbook.id)])
        self.assertTrue(run.email_sent)
        mail = self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", guest.id)]
        )
        self.assertIn("Coffee roasting seminar", mail.subject)

    @freeze_time("2026-08-01")
    def test_a_past_event_fails_the_run_and_contacts_nobody(self):
        event = self.env["event.event"].create(
            {
                "name": "Old seminar",
                "date_begin": datetime(2026, 7, 1, 9),
                "date_end": datetime(2026, 7, 1, 17),
            }
        )
        playbook = self._playbook(event)
        guest = self.env["res.partner"].create({"name": "Late", "email": "late@example.com"})
        with mute_logger("odoo.addons.retention_loyalty.models.retention_playbook"):
            self._confirm_order(guest)
        run = self.env["retention.playbook.run"].search([("playbook_id", "=", playbook.id)])
        self.assertEqual(run.state, "failed")
        self.assertIn("over", run.message)

    @freeze_time("2026-06-01")
    def test_the_invitation_shows_the_time_of_the_event(self):
        event = self.env["event.event"].create(
            {
                "name": "Brussels tasting",
                "date_begin": datetime(2026, 7, 1, 9),  # UTC: 11:00 in Brussels (summer)
                "date_end": datetime(2026, 7, 1, 12),
                "date_tz": "Europe/Brussels",
            }
        )
        self._playbook(event)
        guest = self.env["res.partner"].create(
            {"name": "Local guest", "email": "local@example.com", "lang": "en_US"}
        )
        self._confirm_order(guest)
        mail = self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", guest.id)]
        )
        self.assertIn("Jul 1, 2026, 11:00", mail.body_html)
        self.assertIn("Europe/Brussels", mail.body_html)
        self.assertNotIn("09:00", mail.body_html)

    def test_the_event_belongs_to_the_playbook_company(self):
        sister = self.env["res.company"].create({"name": "Sister Event Co"})
        event = self.env["event.event"].create(
            {
                "name": "Sister seminar",
                "company_id": sister.id,
                "date_begin": datetime(2030, 7, 1, 9),
                "date_end": datetime(2030, 7, 1, 17),
            }
        )
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self._playbook(event)

    def test_the_ready_made_seminar_playbook_needs_an_event_to_start(self):
        playbook = self.env.ref("retention_loyalty_event.playbook_seminar_invitation")
        with self.assertRaises(ValidationError):
            playbook.active = True
