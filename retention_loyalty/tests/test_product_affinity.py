from collections import defaultdict
from datetime import date, datetime, time

from odoo import Command
from odoo.exceptions import ValidationError
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

    # ------------------------------------------------------- voucher on suggestions

    def _voucher_program(self, applicability="specific"):
        return self.env["loyalty.program"].create(
            {
                "name": "Affinity voucher",
                "program_type": "next_order_coupons",
                "applies_on": "future",
                "trigger": "with_code",
                "rule_ids": [Command.create({"minimum_amount": 0, "reward_point_amount": 1})],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "percent",
                            "discount_applicability": applicability,
                            "required_points": 1,
                        }
                    )
                ],
            }
        )

    def _thank_you_voucher(self, customer, program, products="suggested"):
        """Run a thank-you coupon action for ``customer``: its card and notes."""
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Affinity thank-you",
                "trigger": "order_confirmed",
                "control_percent": 0,
                "action_ids": [
                    Command.create(
                        {
                            "kind": "coupon",
                            "program_id": program.id,
                            "validity_days": 30,
                            "coupon_products": products,
                        }
                    )
                ],
            }
        )
        results, notes = defaultdict(dict), defaultdict(list)
        # Issued today: the code is checked against today's date.
        playbook.action_ids._run(customer, date.today(), results, notes)
        return self.env["loyalty.card"].browse(results[customer.id]["card_id"]), notes[customer.id]

    def _order(self, customer, *products):
        return self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [Command.create({"product_id": product.id}) for product in products],
            }
        )

    def _discount_with(self, order, card):
        """Apply ``card`` by its code as a customer does and claim its reward:
        the discount on the order."""
        claimable = order._try_apply_code(card.code)
        self.assertEqual(list(claimable), [card], "the voucher offers its reward")
        self.assertFalse(order._apply_program_reward(claimable[card], card))
        return -sum(order.order_line.filtered("reward_id").mapped("price_subtotal"))

    def test_thank_you_voucher_discounts_only_the_suggested_products(self):
        customer = self.customers[5]  # beans and mugs: filters go with beans
        card, notes = self._thank_you_voucher(customer, self._voucher_program())
        self.assertEqual(card.retention_product_ids, self.filters)
        self.assertEqual(notes, [])
        # 10 % of the filters (10.00), not of the whole order (30.00).
        order = self._order(customer, self.beans, self.filters, self.mugs)
        self.assertAlmostEqual(self._discount_with(order, card), 1.0, places=2)
        self.assertAlmostEqual(order.amount_total, 29.0, places=2)
        # The same program's voucher without the limit takes 10 % of everything.
        card.retention_product_ids = False
        order = self._order(customer, self.beans, self.filters, self.mugs)
        self.assertAlmostEqual(self._discount_with(order, card), 3.0, places=2)

    def test_a_limited_voucher_offers_nothing_on_an_order_without_its_products(self):
        customer = self.customers[5]
        card, _notes = self._thank_you_voucher(customer, self._voucher_program())
        order = self._order(customer, self.beans, self.mugs)
        self.assertEqual(dict(order._try_apply_code(card.code)), {})
        # The Promotions button's list agrees.
        self.assertNotIn(card, order._get_claimable_rewards())
        self.assertFalse(order.order_line.filtered("reward_id"))

    def test_a_customer_without_suggestions_gets_a_voucher_on_any_product(self):
        customer = self.customers[8]  # tea only: nothing is bought with tea often enough
        card, notes = self._thank_you_voucher(customer, self._voucher_program())
        self.assertFalse(card.retention_product_ids)
        self.assertEqual(notes, ["No suggested products yet: the voucher is valid on any product."])
        order = self._order(customer, self.tea, self.beans)
        self.assertAlmostEqual(self._discount_with(order, card), 2.0, places=2)

    def test_suggested_products_need_discounts_on_specific_products(self):
        order_wide = self._voucher_program(applicability="order")
        with self.assertRaisesRegex(ValidationError, "discounts on specific products"):
            self._thank_you_voucher(self.customers[5], order_wide)
        # The ready-made thank-you playbook's voucher is set up that way.
        thank_you = self.env.ref("retention_loyalty.playbook_thank_you").with_context(
            active_test=False
        )
        coupon = thank_you.action_ids.filtered(lambda action: action.kind == "coupon")
        self.assertEqual(coupon.coupon_products, "suggested")
        self.assertFalse(coupon._problem())
