from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import make_order, make_product

TODAY = date(2026, 6, 30)


@tagged("post_install", "-at_install")
class TestContactThatCounts(TransactionCase):
    """Orders, done activities, messages sent from the chatter (and events, in
    the event bridge) are contacts; internal notes and the customer's own
    messages are not."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.salesman = new_test_user(
            cls.env,
            login="rl_contact_salesman",
            name="Contact Seller",
            groups="sales_team.group_sale_salesman",
        )
        cls.product = make_product(cls.env, "Contact Coffee", 20.0)
        cls.customer = cls.env["res.partner"].create(
            {"name": "Contact Customer", "is_company": True, "user_id": cls.salesman.id}
        )
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Contact Buyer", "parent_id": cls.customer.id, "email": "buyer@example.com"}
        )
        with freeze_time(TODAY - timedelta(days=200)):
            cls.order = make_order(
                cls.env, cls.customer, cls.product, 100.0, TODAY - timedelta(days=200)
            )
        cls.tier = cls.env["retention.value.tier"].create(
            {"name": "Contact A", "cutoff_percent": 42.0, "contact_cadence_days": 30}
        )
        cls.stat = cls.env["retention.customer.stat"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "value_tier_id": cls.tier.id,
                "last_order_date": TODAY - timedelta(days=200),
            }
        )
        cls.call = cls.env.ref("mail.mail_activity_data_call")
        cls.playbook = cls.env["retention.playbook"].create(
            {
                "name": "Quiet customers",
                "trigger": "no_contact",
                "trigger_days": 60,
                "control_percent": 0,
                "action_ids": [
                    Command.create({"kind": "activity", "activity_type_id": cls.call.id})
                ],
            }
        )

    def _reached(self):
        return set(self.playbook._candidates(TODAY))

    def _touch(self, days_ago, record, **post):
        """``post`` on ``record``'s chatter as the salesperson, ``days_ago``."""
        with freeze_time(datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time())):
            record.with_user(self.salesman).message_post(**post)
        self.customer.invalidate_recordset()
        self.stat.invalidate_recordset()

    def _log_call(self, days_ago, record):
        with freeze_time(TODAY - timedelta(days=days_ago)):
            activity = record.activity_schedule(
                "mail.mail_activity_data_call", user_id=self.salesman.id
            )
            activity.with_user(self.salesman).action_feedback(feedback="Ordered next week")
        self.customer.invalidate_recordset()
        self.stat.invalidate_recordset()

    @freeze_time(TODAY)
    def test_an_order_alone_is_the_last_contact(self):
        self.assertEqual(self.customer.retention_last_contact_date, TODAY - timedelta(days=200))
        self.assertEqual(self.customer.retention_last_contact_kind, "order")
        self.assertEqual(self._reached(), {self.customer.id})
        self.assertTrue(self.stat.contact_due)

    @freeze_time(TODAY)
    def test_a_call_logged_on_a_contact_person_counts_for_the_company(self):
        self._log_call(10, self.buyer)
        self.assertEqual(self.customer.retention_last_contact_date, TODAY - timedelta(days=10))
        self.assertEqual(self.customer.retention_last_contact_kind, "activity")
        self.assertEqual(self.customer.retention_last_contact_label, "Call · Contact Seller")
        self.assertEqual(self.buyer.retention_last_contact_date, TODAY - timedelta(days=10))
        self.assertEqual(self._reached(), set())
        self.assertFalse(self.stat.contact_due)

    @freeze_time(TODAY)
    def test_a_message_sent_on_an_order_counts(self):
        self._touch(
            5,
            self.order,
            body="Your beans are on their way",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertEqual(self.customer.retention_last_contact_date, TODAY - timedelta(days=5))
        self.assertEqual(self.customer.retention_last_contact_kind, "message")
        self.assertEqual(self._reached(), set())

    @freeze_time(TODAY)
    def test_internal_notes_and_the_customers_own_messages_are_not_contact(self):
        with freeze_time(TODAY - timedelta(days=3)):
            self.customer.message_post(
                body="Seems unhappy", message_type="comment", subtype_xmlid="mail.mt_note"
            )
        with freeze_time(TODAY - timedelta(days=2)):
            self.customer.message_post(
                body="Where is my order?",
                author_id=self.buyer.id,
                message_type="email",
                subtype_xmlid="mail.mt_comment",
            )
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.retention_last_contact_kind, "order")
        self.assertEqual(self._reached(), {self.customer.id})

    @freeze_time(TODAY)
    def test_the_cadence_of_the_tier_decides_who_is_due(self):
        self._log_call(40, self.customer)
        self.assertTrue(self.stat.contact_due)
        Stat = self.env["retention.customer.stat"]
        self.assertIn(self.stat, Stat.search([("contact_due", "=", True)]))
        self._log_call(20, self.customer)
        self.stat.invalidate_recordset()
        self.assertFalse(self.stat.contact_due)
        self.assertNotIn(self.stat, Stat.search([("contact_due", "=", True)]))
        self.assertIn(self.stat, Stat.search([("contact_due", "=", False)]))
        self.tier.contact_cadence_days = 0
        self._log_call(400, self.customer)
        self.assertFalse(self.stat.contact_due, "no cadence, never due")

    @freeze_time(TODAY)
    def test_another_companys_orders_do_not_count_here(self):
        other = self.env["res.company"].create({"name": "Contact Other Company"})
        self.env.user.company_ids |= other
        make_order(
            self.env(context=dict(self.env.context, allowed_company_ids=[other.id])),
            self.customer,
            self.product,
            50.0,
            TODAY - timedelta(days=1),
            company_id=other.id,
        )
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.retention_last_contact_date, TODAY - timedelta(days=200))

    @freeze_time(TODAY)
    def test_the_query_count_does_not_grow_with_the_customers(self):
        Partner = self.env["res.partner"]
        few = self.customer.ids
        many = (self.customer | Partner.create([{"name": f"Bulk {n}"} for n in range(30)])).ids
        Partner._retention_last_touches(self.company, few)

        def queries(customer_ids):
            before = self.env.cr.sql_log_count
            Partner._retention_last_touches(self.company, customer_ids)
            return self.env.cr.sql_log_count - before

        # One query per source of touches (chatter, orders, and a bridge's events).
        self.assertLessEqual(queries(few), 3)
        self.assertEqual(queries(many), queries(few))

    @freeze_time(TODAY)
    def test_scorecards_show_the_contact_plan_kept_at_the_end_of_the_period(self):
        kept = self.env["res.partner"].create({"name": "Contact Kept", "user_id": self.salesman.id})
        self.env["retention.customer.stat"].create(
            {"partner_id": kept.id, "company_id": self.company.id, "value_tier_id": self.tier.id}
        )
        self._log_call_on(kept, date(2026, 5, 25))  # within 30 days of 31 May
        self._log_call_on(self.customer, date(2026, 6, 20))  # after May: not counted for May
        may = self.env["retention.scorecard"]._compute_period(
            self.company, "month", date(2026, 5, 1), users=self.salesman
        )
        self.assertEqual(
            (may.contact_plan_count, may.contact_plan_kept_count, may.contact_coverage),
            (2, 1, 50.0),
        )
        june = self.env["retention.scorecard"]._compute_period(
            self.company, "month", date(2026, 6, 1), users=self.salesman
        )
        # On 30 June: the customer called on 20 June is kept, the one called on 25 May is not.
        self.assertEqual((june.contact_plan_count, june.contact_plan_kept_count), (2, 1))

    def _log_call_on(self, partner, day):
        with freeze_time(day):
            partner.activity_schedule(
                "mail.mail_activity_data_call", user_id=self.salesman.id
            ).action_feedback(feedback="Fine")
