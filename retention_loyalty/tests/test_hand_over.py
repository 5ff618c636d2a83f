from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import make_order, make_product


@tagged("post_install", "-at_install")
@freeze_time("2026-06-30")
class TestHandOver(TransactionCase):
    """A customer's new salesperson takes over the retention follow-ups with a
    note on where things stand; key accounts with one contact person warn."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        groups = "sales_team.group_sale_salesman_all_leads,base.group_partner_manager"
        cls.alice, cls.bruno, cls.chloe = (
            new_test_user(cls.env, login=f"rl_handover_{name}", name=name.title(), groups=groups)
            for name in ("alice", "bruno", "chloe")
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Handover Corp", "is_company": True, "user_id": cls.alice.id}
        )
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Handover Buyer", "parent_id": cls.customer.id}
        )
        cls.call = cls.env.ref("mail.mail_activity_data_call")
        cls.playbook = cls.env["retention.playbook"].create(
            {
                "name": "Handover check-in",
                "trigger": "no_contact",
                "trigger_days": 30,
                "action_ids": [
                    Command.create({"kind": "activity", "activity_type_id": cls.call.id})
                ],
            }
        )
        cls.product = make_product(cls.env, "Handover Beans", 25.0)

    def _followup(self, user, summary):
        return self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": self.customer.id,
                "user_id": user.id,
                "summary": summary,
                "activity_type_id": self.call.id,
                "date_deadline": date(2026, 7, 2),
                "retention_playbook_id": self.playbook.id,
            }
        )

    def _activities(self, **domain):
        return self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
            + [(field, "=", value) for field, value in domain.items()]
        )

    def test_the_new_salesperson_takes_over_the_follow_ups_with_a_note(self):
        check_in = self._followup(self.alice, "Check in with Handover Corp")
        someone_elses = self._followup(self.chloe, "Chloe's own call")
        quotation = make_order(self.env, self.customer, self.product, 300.0, confirm=False)
        self.customer.with_user(self.alice).write({"user_id": self.bruno.id})
        self.assertEqual(check_in.user_id, self.bruno)
        self.assertEqual(someone_elses.user_id, self.chloe, "only the previous salesperson's")
        note = self._activities(retention_handover=True)
        self.assertEqual(len(note), 1)
        self.assertEqual(note.user_id, self.bruno)
        self.assertEqual(note.summary, "Hand-over: Handover Corp")
        for text in ("Previous salesperson: Alice", "Check in with Handover Corp", quotation.name):
            self.assertIn(text, str(note.note))
        self.assertNotIn("Chloe's own call", str(note.note))

    def test_two_changes_in_one_day_leave_one_note_for_the_last_salesperson(self):
        check_in = self._followup(self.alice, "Check in")
        self.customer.write({"user_id": self.bruno.id})
        self.customer.write({"user_id": self.chloe.id})
        self.assertEqual(check_in.user_id, self.chloe)
        note = self._activities(retention_handover=True)
        self.assertEqual(note.user_id, self.chloe)
        self.assertIn("Previous salesperson: Bruno", str(note.note))

    def test_a_contact_person_changing_salesperson_hands_nothing_over(self):
        check_in = self._followup(self.alice, "Check in")
        self.buyer.write({"user_id": self.bruno.id})
        self.assertEqual(check_in.user_id, self.alice)
        self.assertFalse(self._activities(retention_handover=True))

    def test_an_unchanged_first_or_removed_salesperson_hands_nothing_over(self):
        self.customer.write({"user_id": self.alice.id, "comment": "same"})
        self.customer.write({"user_id": False})
        self.customer.write({"user_id": self.bruno.id})  # a first salesperson again
        self.assertFalse(self._activities(retention_handover=True))

    def test_key_accounts_with_a_single_contact_person_warn(self):
        self.assertFalse(self.customer.retention_is_key_account)
        self.assertFalse(self.customer.retention_single_contact)
        self.customer.retention_key_account = True
        self.assertTrue(self.customer.retention_single_contact, "one person: Handover Buyer")
        self.env["res.partner"].create({"name": "Second Buyer", "parent_id": self.customer.id})
        self.customer.invalidate_recordset()
        self.assertFalse(self.customer.retention_single_contact)

    def test_a_tier_can_make_its_customers_key_accounts(self):
        tier = self.env["retention.value.tier"].create(
            {"name": "Key tier", "cutoff_percent": 37.0, "key_accounts": True}
        )
        self.env["retention.customer.stat"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.env.company.id,
                "value_tier_id": tier.id,
            }
        )
        self.customer.invalidate_recordset()
        self.assertTrue(self.customer.retention_is_key_account)
        self.assertTrue(self.customer.retention_single_contact)
