from collections import defaultdict
from datetime import date, datetime, time

from odoo import Command
from odoo.tests import TransactionCase, tagged

from .common import make_product

TODAY = date(2026, 6, 30)


@tagged("post_install", "-at_install")
class TestProductAffinity(TransactionCase):
    """Customers who buy X also buy Y, worked out by hand on eight customers.

    beans: c1..c6   filters: c1..c4   mugs: c5, c6, c7   tea: c7, c8
    beans & filters: 4 customers (share 4/6 = 66.7 %, lift 4*8/(6*4) = 1.33)
    filters & beans: 4 (share 100 %, lift 1.33)
    beans & mugs: 2 (below the 3 customers needed); mugs & tea: 1.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.beans, cls.filters, cls.mugs, cls.tea = (
            make_product(cls.env, f"Affinity {name}", 10.0)
            for name in ("Beans", "Filters", "Mugs", "Tea")
        )
        baskets = {
            1: [cls.beans, cls.filters],
            2: [cls.beans, cls.filters],
            3: [cls.beans, cls.filters],
            4: [cls.beans, cls.filters],
            5: [cls.beans, cls.mugs],
            6: [cls.beans, cls.mugs],
            7: [cls.mugs, cls.tea],
            8: [cls.tea],
        }
        cls.customers = {}
        for number, products in baskets.items():
            customer = cls.env["res.partner"].create({"name": f"Affinity Customer {number}"})
            cls.customers[number] = customer
            # Two orders: a product bought twice by one customer counts once.
            for product in products:
                for month in (3, 5):
                    cls.env["sale.order"].create(
                        {
                            "partner_id": customer.id,
                            "state": "sale",
                            "date_order": datetime.combine(date(2026, month, 2), time(10)),
                            "order_line": [Command.create({"product_id": product.id})],
                        }
                    )
        cls.Affinity = cls.env["retention.product.affinity"]
        cls.Affinity._refresh_company(cls.company, today=TODAY)

    def _pairs(self):
        return {
            (row.product_id, row.related_product_id): (
                row.customer_count,
                round(row.confidence, 1),
                round(row.lift, 2),
            )
            for row in self.Affinity.search([("company_id", "=", self.company.id)])
        }

    def test_pairs_with_their_share_and_lift(self):
        self.assertEqual(
            self._pairs(),
            {
                (self.beans, self.filters): (4, 66.7, 1.33),
                (self.filters, self.beans): (4, 100.0, 1.33),
            },
        )

    def test_a_refresh_replaces_the_pairs_and_leaves_other_companies_alone(self):
        other = self.env["res.company"].create({"name": "Affinity Other"})
        self.Affinity.create(
            {
                "company_id": other.id,
                "product_id": self.tea.id,
                "related_product_id": self.mugs.id,
                "customer_count": 9,
            }
        )
        self.Affinity._refresh_company(self.company, today=TODAY)
        self.assertEqual(len(self._pairs()), 2)
        self.assertEqual(self.Affinity.search_count([("company_id", "=", other.id)]), 1)

    def test_suggestions_are_related_products_the_customer_does_not_buy_yet(self):
        customer = self.env["res.partner"].create({"name": "Affinity Newcomer"})
        self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "state": "sale",
                "order_line": [Command.create({"product_id": self.beans.id})],
            }
        )
        suggestions = self.Affinity._suggestions(
            self.company, [customer.id, self.customers[1].id, self.customers[8].id]
        )
        self.assertEqual(suggestions, {customer.id: self.filters})

    def test_archived_or_unsold_products_are_not_suggested(self):
        customer = self.customers[5]  # beans and mugs: filters would be suggested
        self.assertEqual(
            self.Affinity._suggestions(self.company, [customer.id]), {customer.id: self.filters}
        )
        self.filters.sale_ok = False
        self.assertEqual(self.Affinity._suggestions(self.company, [customer.id]), {})

    def test_follow_up_notes_and_the_thank_you_email_suggest_them(self):
        customer = self.customers[5]  # beans and mugs: filters go with beans
        call = self.env.ref("mail.mail_activity_data_call")
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Affinity call",
                "trigger": "no_contact",
                "trigger_days": 1,
                "control_percent": 0,
                "action_ids": [
                    Command.create(
                        {
                            "kind": "activity",
                            "activity_type_id": call.id,
                            "note": "<p>Suggest: {suggestions}</p>",
                        }
                    )
                ],
            }
        )
        results = defaultdict(dict)
        playbook.action_ids._run(customer, TODAY, results, defaultdict(list))
        note = self.env["mail.activity"].browse(results[customer.id]["activity_id"]).note
        self.assertIn("Suggest: Affinity Filters", str(note))
        self.assertEqual(customer.retention_suggested_products, "Affinity Filters")
        template = self.env.ref("retention_loyalty.mail_template_playbook_thank_you")
        body = template._render_field("body_html", customer.ids)[customer.id]
        self.assertIn("You may also like", str(body))
        self.assertIn("Affinity Filters", str(body))
