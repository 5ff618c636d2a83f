import math
from collections import Counter
from datetime import date, timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged

from odoo.addons.retention_loyalty.engine.dates import add_months
from odoo.addons.retention_loyalty.engine.demo_history import generate_demo_history, rhythm_counts

TODAY = date(2026, 3, 31)


@tagged("post_install", "-at_install")
class TestDemoGenerator(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.generator = cls.env["retention.demo.generator"]
        cls.history = generate_demo_history(seed=11, n_customers=40, today=TODAY)
        cls.created = cls.generator._create_demo_history(cls.history)

    def test_customers_and_their_rhythms(self):
        customers = self.created["customers"]
        self.assertEqual(len(customers), 40)
        rhythm_of = {customer.key: customer.rhythm for customer in self.history.customers}
        self.assertEqual(Counter(rhythm_of.values()), Counter(rhythm_counts(40)))
        partners = self.env["res.partner"].union(*customers.values())
        self.assertEqual(partners.commercial_partner_id, partners, "customers are commercial")
        companies = partners.filtered("is_company")
        self.assertTrue(companies and companies != partners, "companies and private persons")
        contacts = self.env["res.partner"].union(*self.created["contacts"].values())
        self.assertTrue(contacts)
        self.assertEqual(contacts.parent_id, companies)
        for partner in partners:
            self.assertTrue(partner.user_id.has_group("sales_team.group_sale_salesman"))
        # Each customer's own name, city and country, not just any of the history's.
        for customer in self.history.customers:
            partner = customers[customer.key]
            self.assertEqual(partner.name, customer.name)
            self.assertEqual(partner.city, customer.city)
            self.assertEqual(partner.country_id.code, customer.country_code.upper())
            if "(" in customer.name:  # a repeated name, told apart by the city
                self.assertIn(f"({customer.city}", partner.name)
        self.assertGreater(len(set(partners.mapped("city"))), 3, "customers in several cities")

    def test_orders_follow_the_history(self):
        orders = self.created["orders"]
        self.assertEqual(len(orders), len(self.history.orders))
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        self.assertEqual(
            sorted(order.date_order.date() for order in orders),
            sorted(order.order_date for order in self.history.orders),
        )
        self.assertTrue(all(order.amount_untaxed > 0 for order in orders))
        self.assertLessEqual(max(orders.mapped("date_order")).date(), TODAY)
        # Companies also order through their contacts: statistics must count
        # those orders at the company.
        self.assertTrue(orders.filtered(lambda o: o.partner_id.parent_id))

        key_of = {partner: key for key, partner in self.created["customers"].items()}
        rhythm_of = {customer.key: customer.rhythm for customer in self.history.customers}
        dates = {}
        for order in orders:
            key = key_of[order.partner_id.commercial_partner_id]
            dates.setdefault(key, []).append(order.date_order.date())
            self.assertEqual(order.user_id, order.partner_id.commercial_partner_id.user_id)
        for key, order_dates in dates.items():
            rhythm = rhythm_of[key]
            if rhythm == "one_off":
                self.assertEqual(len(order_dates), 1)
            elif rhythm == "lapsed":
                self.assertGreaterEqual(TODAY - max(order_dates), timedelta(days=180))
            elif rhythm == "new":
                self.assertLess(TODAY - min(order_dates), timedelta(days=90))
            elif rhythm == "loyal":
                self.assertGreaterEqual(len(order_dates), 8)

    def test_catalogue_and_loyalty(self):
        products = self.env["product.product"].union(*self.created["products"].values())
        self.assertEqual(len(products), len(self.history.products))
        self.assertEqual(len(products.categ_id), 5)
        program = self.created["program"]
        self.assertEqual(program.program_type, "loyalty")
        self.assertEqual(program.rule_ids.reward_point_mode, "money")
        cards = self.created["cards"]
        self.assertEqual(
            cards.partner_id, self.env["res.partner"].union(*self.created["customers"].values())
        )
        for card in cards:
            orders = self.created["orders"].filtered(
                lambda o, card=card: o.partner_id.commercial_partner_id == card.partner_id
            )
            entries = card.retention_entry_ids
            earned = entries.filtered(lambda entry: entry.kind == "earn")
            self.assertEqual(
                sum(earned.mapped("points")),
                sum(math.floor(amount) for amount in orders.mapped("amount_untaxed")),
            )
            # The ledger explains the balance; what is left has not expired yet.
            self.assertEqual(card.points, sum(entries.mapped("points")))
            self.assertEqual(card.points, sum(entries.mapped("remaining")))
            self.assertFalse(
                entries.filtered(
                    lambda entry: entry.remaining and entry.expiry_date <= fields.Date.today()
                )
            )
        self.assertTrue(cards.retention_entry_ids.filtered(lambda entry: entry.kind == "expire"))
        self.assertEqual(self.created["campaign"].program_id, program)
        self.assertEqual(self.created["vip_tag"].retention_points_multiplier, 1.5)

    def test_reuses_catalogue_and_salespeople(self):
        again = self.generator._create_demo_history(
            generate_demo_history(seed=12, n_customers=6, today=TODAY)
        )
        self.assertEqual(set(again["products"].values()), set(self.created["products"].values()))
        self.assertEqual(
            set(again["salespeople"].values()), set(self.created["salespeople"].values())
        )

    def test_demo_entry_point_runs_once(self):
        before = self.env["sale.order"].search_count([])
        self.assertTrue(self.generator._generate_demo_data())
        customer = self.env.ref("retention_loyalty.demo_customer_0000")
        self.assertTrue(customer.exists())
        created = self.env["sale.order"].search_count([]) - before
        self.assertGreater(created, 1500)  # about 3,000 for 300 customers
        self.assertFalse(self.generator._generate_demo_data(), "second call does nothing")
        self.assertEqual(self.env["sale.order"].search_count([]) - before, created)

    def test_demo_records_survive_module_updates(self):
        self.generator._generate_demo_data()
        data = self.env["ir.model.data"].search(
            [("module", "=", "retention_loyalty"), ("name", "=like", "demo\\_%")]
        )
        self.assertGreaterEqual(len(data), 300)
        # Records no data file declares are deleted at update unless noupdate.
        self.assertTrue(all(data.mapped("noupdate")))

    def test_subscription_points_are_dated_on_their_orders(self):
        self.generator._generate_demo_data()
        orders = self.env["sale.order"].search([("retention_subscription_id", "!=", False)])
        entries = self.env["retention.points.entry"].search([("order_id", "in", orders.ids)])
        self.assertGreater(len(entries), 10)
        for entry in entries:
            self.assertEqual(entry.date, entry.order_id.date_order.date(), entry.description)
            self.assertEqual(entry.expiry_date, add_months(entry.date, 12))
