from datetime import date, datetime, time, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import make_product

TODAY = date(2026, 6, 30)


class QuickReorderCase(TransactionCase):
    """A key account (a company) ordering through one of its contacts, with
    a member pricelist and three past orders; a stranger with their own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.salesman = new_test_user(
            cls.env, login="rl_quick_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.beans = make_product(cls.env, "Quick Beans", 20.0)
        cls.filters = make_product(cls.env, "Quick Filters", 4.0)
        cls.mugs = make_product(cls.env, "Quick Mugs", 9.0)
        cls.tea = make_product(cls.env, "Stranger Tea", 5.0)
        cls.member_prices = cls.env["product.pricelist"].create(
            {
                "name": "Quick members",
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
        cls.key_account = cls.env["res.partner"].create(
            {
                "name": "Quick Key Co",
                "is_company": True,
                "retention_key_account": True,
                "user_id": cls.salesman.id,
                "property_product_pricelist": cls.member_prices.id,
            }
        )
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Kim Buyer", "parent_id": cls.key_account.id, "email": "kim@example.com"}
        )
        cls.buyer_user = new_test_user(
            cls.env, login="rl_quick_buyer", groups="base.group_portal", partner_id=cls.buyer.id
        )
        for days_ago, partner, lines in (
            (90, cls.key_account, {cls.beans: (2, 20.0), cls.mugs: (6, 9.0)}),
            (60, cls.buyer, {cls.beans: (3, 19.0), cls.filters: (1, 4.0)}),
            (30, cls.buyer, {cls.beans: (2, 18.0), cls.filters: (2, 4.0)}),
        ):
            cls._history(partner, days_ago, lines)
        cls.stranger = cls.env["res.partner"].create({"name": "Quick Stranger"})
        cls._history(cls.stranger, 10, {cls.tea: (7, 5.0)})

    @classmethod
    def _history(cls, partner, days_ago, lines, company=None):
        return cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "company_id": (company or cls.company).id,
                "date_order": datetime.combine(TODAY - timedelta(days=days_ago), time(10)),
                "state": "sale",
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "price_unit": price,
                            "tax_id": [Command.clear()],
                        }
                    )
                    for product, (quantity, price) in lines.items()
                ],
            }
        )

    def _as_portal(self, user=None):
        """The contact as the portal controller uses it: the portal user's
        partner, read as the server after the key-account check."""
        user = user or self.buyer_user
        return user.partner_id.with_user(user).sudo()

    def _quick_orders(self):
        return self.env["sale.order"].search([("origin", "=", "Quick reorder")])


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestQuickReorder(QuickReorderCase):
    def test_usual_products_first_with_their_last_purchase_and_current_price(self):
        offer = self._as_portal()._retention_quick_reorder_offer(self.company)
        self.assertEqual(
            [
                (
                    line["product"],
                    line["usual"],
                    line["quantity"],
                    line["last_quantity"],
                    line["last_price"],
                    line["price"],
                )
                for line in offer["lines"]
            ],
            [
                (self.beans, True, 2, 2, 18.0, 17.0),  # member price today, 18 paid last time
                (self.filters, True, 1.5, 2, 4.0, 4.0),
                (self.mugs, False, 0, 6, 9.0, 9.0),  # bought lately, not usual: nothing proposed
            ],
        )
        self.assertEqual(offer["lines"][0]["last_currency"], self.company.currency_id)
        self.assertEqual(offer["currency"], self.member_prices.currency_id)
        self.assertFalse(offer["left_out"])

    def test_the_company_chooses_how_many_orders_make_a_product_usual(self):
        self.company.write(
            {"retention_quick_reorder_min_orders": 1, "retention_quick_reorder_last_orders": 2}
        )
        offer = self._as_portal()._retention_quick_reorder_offer(self.company)
        self.assertEqual(
            [(line["product"], line["quantity"]) for line in offer["lines"]],
            [(self.beans, 2.5), (self.filters, 1.5)],
            "mugs were bought three orders ago: not offered",
        )
        for min_orders, last_orders in ((0, 4), (3, 2), (2, 51)):
            with (
                self.subTest(min_orders=min_orders, last_orders=last_orders),
                self.assertRaisesRegex(ValidationError, "Quick reorder of"),
            ):
                self.company.write(
                    {
                        "retention_quick_reorder_min_orders": min_orders,
                        "retention_quick_reorder_last_orders": last_orders,
                    }
                )

    def test_archived_and_unsold_products_are_left_out_and_noted(self):
        self.mugs.active = False
        self.filters.sale_ok = False
        offer = self._as_portal()._retention_quick_reorder_offer(self.company)
        self.assertEqual([line["product"] for line in offer["lines"]], [self.beans])
        self.assertEqual(offer["left_out"], self.filters | self.mugs)

    def test_only_key_accounts_may_use_it_whoever_the_contact(self):
        self.assertTrue(self.buyer_user.partner_id._retention_quick_reorder_allowed())
        self.assertTrue(self.key_account._retention_quick_reorder_allowed())
        self.assertFalse(self.stranger._retention_quick_reorder_allowed())
        tier = self.env["retention.value.tier"].create(
            {
                "name": "Quick A",
                "company_id": self.company.id,
                "cutoff_percent": 37.5,
                "key_accounts": True,
            }
        )
        self.env["retention.customer.stat"].create(
            {
                "partner_id": self.stranger.id,
                "company_id": self.company.id,
                "value_tier_id": tier.id,
            }
        )
        self.stranger.invalidate_recordset()
        self.assertTrue(self.stranger._retention_quick_reorder_allowed(), "key accounts by tier")

    def test_a_quotation_for_the_company_with_the_contact_ordering(self):
        order = self._as_portal()._retention_quick_reorder_order(
            self.company, {str(self.beans.id): "4", str(self.filters.id): "0", "": ""}
        )
        self.assertRecordValues(
            order,
            [
                {
                    "partner_id": self.buyer.id,
                    "company_id": self.company.id,
                    "state": "sent",
                    "pricelist_id": self.member_prices.id,
                    "user_id": self.salesman.id,
                    "origin": "Quick reorder",
                }
            ],
        )
        self.assertEqual(order.partner_id.commercial_partner_id, self.key_account)
        self.assertEqual(
            [(line.product_id, line.product_uom_qty, line.price_unit) for line in order.order_line],
            [(self.beans, 4, 17.0)],
        )
        self.assertIn(self.buyer, order.message_partner_ids, "the buyer follows it in the portal")
        self.assertTrue(order.with_user(self.buyer_user).has_access("read"))

    def test_the_company_may_have_it_confirm_the_order(self):
        self.company.retention_quick_reorder_confirm = True
        order = self._as_portal()._retention_quick_reorder_order(
            self.company, {str(self.beans.id): "1.5"}
        )
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.order_line.product_uom_qty, 1.5)

    def test_bad_quantities_and_products_are_refused_and_nothing_is_created(self):
        other_company = self.env["res.company"].create({"name": "Quick Other Co"})
        foreign = make_product(self.env, "Quick Foreign", 3.0)
        foreign.company_id = other_company
        unsold = make_product(self.env, "Quick Unsold", 3.0)
        unsold.sale_ok = False
        contact = self._as_portal()
        beans = str(self.beans.id)
        for quantities, message in (
            ({beans: "-1"}, "Quantities must be positive numbers"),
            ({beans: "two"}, "Quantities must be numbers"),
            ({beans: "nan"}, "Quantities must be positive numbers"),
            ({beans: "inf"}, "Quantities must be positive numbers"),
            ({beans: "1e999"}, "Quantities must be positive numbers"),
            ({"beans": "1"}, "cannot be ordered here"),
            ({beans: "0", str(self.mugs.id): ""}, "Choose a quantity for at least one product."),
            ({}, "Choose a quantity for at least one product."),
            ({beans: "1", str(foreign.id): "1"}, "cannot be ordered here"),
            ({beans: "1", str(unsold.id): "1"}, "cannot be ordered here"),
            ({beans: "1", "999999999": "1"}, "cannot be ordered here"),
        ):
            with self.subTest(quantities=quantities):
                with self.assertRaisesRegex(UserError, message):
                    contact._retention_quick_reorder_order(self.company, quantities)
                with self.assertRaisesRegex(UserError, message):
                    contact._retention_standing_order(self.company, quantities, 1, "month")
        self.assertFalse(self._quick_orders())
        self.assertFalse(
            self.env["retention.subscription"].search([("requested_by_id", "=", self.buyer.id)])
        )

    def test_an_archived_product_is_left_out_of_the_order_with_a_note(self):
        self.mugs.active = False
        order = self._as_portal()._retention_quick_reorder_order(
            self.company, {str(self.beans.id): "2", str(self.mugs.id): "3"}
        )
        self.assertEqual(order.order_line.product_id, self.beans)
        self.assertTrue(
            order.message_ids.filtered(
                lambda message: "Left out (no longer sold): Quick Mugs" in message.body
            )
        )
        with self.assertRaisesRegex(UserError, "Choose a quantity for at least one product."):
            self._as_portal()._retention_quick_reorder_order(self.company, {str(self.mugs.id): "3"})

    def test_a_standing_order_waits_for_the_team_or_starts_as_the_company_says(self):
        contact = self._as_portal()
        quantities = {str(self.beans.id): "2", str(self.filters.id): "1"}
        draft = contact._retention_standing_order(self.company, quantities, 2, "month")
        self.assertRecordValues(
            draft,
            [
                {
                    "partner_id": self.key_account.id,
                    "requested_by_id": self.buyer.id,
                    "state": "draft",
                    "interval": 2,
                    "interval_unit": "month",
                    "date_start": date(2026, 8, 30),
                    "price_mode": "pricelist",
                    "pricelist_id": self.member_prices.id,
                    "user_id": self.salesman.id,
                    "auto_confirm": False,
                }
            ],
        )
        self.assertEqual(
            [(line.product_id, line.quantity, line.price_unit) for line in draft.line_ids],
            [(self.beans, 2, 17.0), (self.filters, 1, 4.0)],
        )
        self.assertEqual(
            draft.activity_ids.mapped(lambda activity: (activity.user_id, activity.summary)),
            [(self.salesman, "Start the standing order Quick Key Co asked for")],
            "the salesperson is asked to start it",
        )
        self.company.write(
            {"retention_standing_order_state": "active", "retention_quick_reorder_confirm": True}
        )
        running = contact._retention_standing_order(
            self.company, quantities, 1, "week", date(2026, 7, 6)
        )
        self.assertRecordValues(
            running,
            [{"state": "active", "date_start": date(2026, 7, 6), "auto_confirm": True}],
        )
        self.assertFalse(running.activity_ids)
        self.assertIn(
            running,
            self.env["retention.subscription"]
            .with_user(self.buyer_user)
            .search([("partner_id", "=", self.key_account.id)]),
            "the buyer sees it in their portal subscriptions",
        )
        for first_day in (TODAY, TODAY - timedelta(days=3)):
            with (
                self.subTest(first_day=first_day),
                self.assertRaisesRegex(UserError, "Choose a first order after today"),
            ):
                contact._retention_standing_order(self.company, quantities, 1, "month", first_day)
        with self.assertRaisesRegex(UserError, "must recur at least every 1 month"):
            contact._retention_standing_order(self.company, quantities, 0, "month")

    def test_each_company_offers_its_own_products_and_prices(self):
        other_company = self.env["res.company"].create({"name": "Quick Second Co"})
        local = make_product(self.env, "Quick Local Syrup", 6.0)
        local.company_id = other_company
        self._history(self.buyer, 5, {local: (4, 6.0)}, company=other_company)
        here = self._as_portal()._retention_quick_reorder_offer(self.company)
        there = self._as_portal()._retention_quick_reorder_offer(other_company)
        self.assertNotIn(local, [line["product"] for line in here["lines"]])
        self.assertEqual([line["product"] for line in there["lines"]], [local])
        with self.assertRaisesRegex(UserError, "cannot be ordered here"):
            self._as_portal()._retention_quick_reorder_order(self.company, {str(local.id): "1"})

    def test_the_page_reads_in_a_constant_number_of_queries(self):
        """However long the history and however many products."""
        products = [
            make_product(self.env, f"Quick extra {index}", 1.0 + index) for index in range(12)
        ]
        contacts = {}
        for name, product_count, days in (
            ("Small", 2, [40, 20]),
            ("Large", 12, range(1800, 0, -30)),
        ):
            customer = self.env["res.partner"].create(
                {"name": f"Quick {name} Co", "is_company": True, "retention_key_account": True}
            )
            contact = self.env["res.partner"].create(
                {"name": f"{name} Buyer", "parent_id": customer.id}
            )
            user = new_test_user(
                self.env,
                login=f"rl_quick_{name}",
                groups="base.group_portal",
                partner_id=contact.id,
            )
            for days_ago in days:  # five years, monthly, for the large one
                self._history(customer, days_ago, dict.fromkeys(products[:product_count], (2, 2.0)))
            contacts[name] = (self._as_portal(user), product_count)
        for contact, _count in contacts.values():  # warm the registry's caches
            contact._retention_quick_reorder_offer(self.company)
        for name, (contact, product_count) in contacts.items():
            with self.subTest(customer=name):
                self.env.invalidate_all()
                with self.assertQueryCount(11):
                    offer = contact._retention_quick_reorder_offer(self.company)
                self.assertEqual(len(offer["lines"]), product_count)
