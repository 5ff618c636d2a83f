from datetime import datetime

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestEventContact(TransactionCase):
    @freeze_time("2026-06-30 15:00:00")
    def test_attending_an_event_is_a_contact_being_invited_is_not(self):
        customer = self.env["res.partner"].create({"name": "Event Customer", "is_company": True})
        guest = self.env["res.partner"].create({"name": "Event Guest", "parent_id": customer.id})
        event = self.env["event.event"].create(
            {
                "name": "Tasting",
                "date_begin": datetime(2026, 6, 30, 9),
                "date_end": datetime(2026, 6, 30, 17),
                "user_id": self.env.ref("base.user_admin").id,
            }
        )
        registration = self.env["event.registration"].create(
            {"event_id": event.id, "partner_id": guest.id}
        )
        self.assertFalse(customer.retention_last_contact_date, "registered, not attended")
        registration.action_set_done()
        customer.invalidate_recordset()
        self.assertEqual(customer.retention_last_contact_date, registration.date_closed.date())
        self.assertEqual(customer.retention_last_contact_kind, "event")
        self.assertEqual(customer.retention_last_contact_user_id, self.env.ref("base.user_admin"))
