from datetime import date, datetime, time, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import make_product

TODAY = date(2026, 6, 30)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestReorderBeforeDue(TransactionCase):
    """Customers whose next order is due soon get a quotation of their usual
    basket at their own prices, and the salesperson a reminder if it waits."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.salesman = new_test_user(
            cls.env, login="rl_reorder_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.beans = make_product(cls.env, "Reorder Beans", 20.0)
        cls.filters = make_product(cls.env, "Reorder Filters", 4.0)
        cls.mugs = make_product(cls.env, "Reorder Mugs", 9.0)
        cls.member_prices = (
            cls.env["res.partner"]
            .env["product.pricelist"]
            .create(
                {
                    "name": "Reorder members",
                    "item_ids": [
                        Command.create(
                            {
                                "applied_on": "0_product_variant",
                                "product_id": cls.beans.id,
                                "compute_price": "fixed",
                                "fixed_price": 17.0,
                            }
                        )
                    ],
                }
            )
        )
        cls.customer = cls._customer("Reorder Cafe", "cafe@example.com")
        cls.customer.property_product_pricelist = cls.member_prices
        for days_ago, lines in (
            (90, {cls.beans: 2, cls.mugs: 6}),
            (60, {cls.beans: 3, cls.filters: 1}),
            (30, {cls.beans: 2, cls.filters: 2}),
        ):
            cls._history(cls.customer, days_ago, lines)
        cls.playbook = cls.env["retention.playbook"].create(
            {
                "name": "Usual basket",
                "trigger": "reorder_due",
                "trigger_days": 7,
                "control_percent": 0,
                "action_ids": [
                    Command.create(
                        {
                            "kind": "basket",
                            "basket_min_orders": 2,
                            "basket_last_orders": 3,
                            "basket_reminder_days": 5,
                        }
                    )
                ],
            }
        )

    @classmethod
    def _customer(cls, name, email=False, next_order=TODAY + timedelta(days=3)):
        partner = cls.env["res.partner"].create(
            {"name": name, "email": email, "user_id": cls.salesman.id}
        )
        cls.env["retention.customer.stat"].create(
            {
                "partner_id": partner.id,
                "company_id": cls.company.id,
                "expected_next_order_date": next_order,
            }
        )
        return partner

    @classmethod
    def _history(cls, partner, days_ago, lines):
        cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "date_order": datetime.combine(TODAY - timedelta(days=days_ago), time(10)),
                "state": "sale",
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": quantity})
                    for product, quantity in lines.items()
                ],
            }
        )

    def _quotation(self, partner=None):
        run = self.env["retention.playbook.run"].search(
            [
                ("playbook_id", "=", self.playbook.id),
                ("partner_id", "=", (partner or self.customer).id),
            ]
        )
        return run, run.quotation_id

    def test_a_quotation_of_the_usual_basket_at_the_customers_prices_is_sent(self):
        self.playbook._evaluate(TODAY)
        run, quotation = self._quotation()
        self.assertEqual(run.state, "done", run.message)
        self.assertTrue(quotation, run.message)
        lines = {
            line.product_id: (line.product_uom_qty, line.price_unit)
            for line in quotation.order_line
        }
        # Beans in 3 of 3 orders (median 2), filters in 2 of 3 (median 1.5); mugs once.
        self.assertEqual(lines, {self.beans: (2.0, 17.0), self.filters: (1.5, 4.0)})
        self.assertEqual(quotation.pricelist_id, self.member_prices)
        self.assertEqual(quotation.user_id, self.salesman)
        self.assertEqual(quotation.state, "sent")
        self.assertIn(quotation.name, quotation.message_ids[0].subject or "")
        self.assertIn(self.customer, quotation.message_ids[0].partner_ids)
        # No PDF: a server without wkhtmltopdf must not fail the run.
        self.assertFalse(quotation.message_ids[0].attachment_ids)

    def test_customers_not_yet_due_or_already_overdue_are_left_to_other_playbooks(self):
        later = self._customer("Reorder Later", next_order=TODAY + timedelta(days=20))
        late = self._customer("Reorder Late", next_order=TODAY - timedelta(days=1))
        for partner in (later, late):
            self._history(partner, 30, {self.beans: 1})
            self._history(partner, 10, {self.beans: 1})
        self.assertEqual(set(self.playbook._candidates(TODAY)), {self.customer.id})

    def test_without_email_the_quotation_waits_for_the_salesperson(self):
        self.customer.email = False
        self.playbook._evaluate(TODAY)
        run, quotation = self._quotation()
        self.assertEqual(quotation.state, "draft")
        self.assertIn("No email address", run.message)

    def test_archived_products_are_left_out_and_noted(self):
        self.filters.active = False
        self.playbook._evaluate(TODAY)
        run, quotation = self._quotation()
        self.assertEqual(quotation.order_line.product_id, self.beans)
        self.assertIn("Reorder Filters", run.message)

    def test_a_customer_without_a_regular_product_gets_no_quotation(self):
        newcomer = self._customer("Reorder Newcomer", "new@example.com")
        self._history(newcomer, 20, {self.mugs: 1})
        self.playbook._evaluate(TODAY)
        run, quotation = self._quotation(newcomer)
        self.assertFalse(quotation)
        self.assertIn("No usual basket yet", run.message)

    def test_the_salesperson_is_reminded_once_of_an_unconfirmed_quotation(self):
        self.playbook._evaluate(TODAY)
        _run, quotation = self._quotation()
        reminders = lambda: quotation.activity_ids.filtered(  # noqa: E731
            lambda activity: activity.summary == "Usual basket not confirmed yet"
        )
        with freeze_time(TODAY + timedelta(days=4)):
            self.playbook._evaluate(TODAY + timedelta(days=4))
        self.assertFalse(reminders())
        with freeze_time(TODAY + timedelta(days=5)):
            self.playbook._evaluate(TODAY + timedelta(days=5))
        self.assertEqual(reminders().user_id, self.salesman)
        with freeze_time(TODAY + timedelta(days=6)):
            self.playbook._evaluate(TODAY + timedelta(days=6))
        self.assertEqual(len(reminders()), 1)

    def test_a_confirmed_quotation_needs_no_reminder(self):
        self.playbook._evaluate(TODAY)
        _run, quotation = self._quotation()
        quotation.action_confirm()
        self.playbook._evaluate(TODAY + timedelta(days=5))
        self.assertFalse(quotation.activity_ids)

    def test_nonsense_basket_settings_are_refused(self):
        with self.assertRaises(ValidationError):
            self.playbook.action_ids.basket_min_orders = 0
        with self.assertRaises(ValidationError):
            self.playbook.action_ids.write({"basket_min_orders": 4, "basket_last_orders": 3})
