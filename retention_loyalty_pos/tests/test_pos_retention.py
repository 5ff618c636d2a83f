from datetime import datetime, time, timedelta
from random import randint

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.addons.retention_loyalty.tests.common import make_order, make_points_program


class PosRetentionCase(TestPoSCommon):
    """A till selling a 10.00 untaxed product, run by a Point of Sale user;
    orders go through ``pos.order.sync_from_ui`` and their points through
    ``confirm_coupon_programs``, as pos_loyalty's payment screen sends them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.today = fields.Date.today()
        cls.product = cls.env["product.product"].create(
            {
                "name": "Till Coffee",
                "type": "service",
                "available_in_pos": True,
                "list_price": 10.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.pos_user = new_test_user(
            cls.env,
            login="rl_pos_cashier",
            groups="base.group_user,point_of_sale.group_pos_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.salesman = new_test_user(
            cls.env,
            login="rl_pos_salesman",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.Stat = cls.env["retention.customer.stat"]

    def setUp(self):
        super().setUp()
        self.config = self.basic_config
        self.open_new_session()

    def _sell(self, customer, lines, days_ago=0, cash=None):
        """A paid PoS order of ``lines`` (product, quantity, unit price,
        extra line values), untaxed, dated ``days_ago`` days before today."""
        data = self.create_ui_order_data([], customer=customer, payments=[])
        order_lines = [
            Command.create(
                {
                    "id": randint(1, 1000000),
                    "product_id": product.id,
                    "qty": qty,
                    "price_unit": price,
                    "price_subtotal": qty * price,
                    "price_subtotal_incl": qty * price,
                    "tax_ids": [Command.set([])],
                    "pack_lot_ids": [],
                    **extra,
                }
            )
            for product, qty, price, extra in lines
        ]
        total = sum(qty * price for _product, qty, price, _extra in lines)
        data.update(
            {
                "lines": order_lines,
                "amount_total": total,
                "amount_tax": 0.0,
                "amount_paid": total,
                "date_order": fields.Datetime.to_string(
                    datetime.combine(self.today - timedelta(days=days_ago), time(10))
                ),
                "payment_ids": [
                    Command.create(
                        {
                            "amount": total,
                            "name": fields.Datetime.now(),
                            "payment_method_id": (cash or self.cash_pm1).id,
                        }
                    )
                ],
            }
        )
        result = self.env["pos.order"].with_user(self.pos_user).sync_from_ui([data])
        order = self.env["pos.order"].browse(result["pos.order"][0]["id"])
        self.assertEqual(order.state, "paid")
        return order

    def _coffee(self, qty, **extra):
        return (self.product, qty, 10.0, extra)

    def _refund(self, order, qty, days_ago=0):
        line = order.lines.filtered(lambda line: line.product_id == self.product)
        return self._sell(
            order.partner_id,
            [self._coffee(-qty, refunded_orderline_id=line.id)],
            days_ago=days_ago,
        )


@tagged("post_install", "-at_install")
class TestPosPurchases(PosRetentionCase):
    def _recompute(self, company=None):
        # As the daily scheduled action runs it.
        self.Stat.sudo()._recompute_company(company or self.company, today=self.today, full=True)

    def _stat(self, partner, company=None):
        return self.Stat.search(
            [("partner_id", "=", partner.id), ("company_id", "=", (company or self.company).id)]
        )

    def test_pos_margin_by_hand(self):
        """Valued in margin: a till line costs its total cost, a product
        without cost counts the default margin rate, never all of it."""
        self.company.write(
            {"retention_value_basis": "margin", "retention_default_margin_rate": 50.0}
        )
        costly, no_cost = self.env["product.product"].create(
            [
                {
                    "name": f"Till {name}",
                    "type": "service",
                    "available_in_pos": True,
                    "list_price": 10.0,
                    "standard_price": cost,
                    "taxes_id": [Command.clear()],
                }
                for name, cost in (("Costly", 6.0), ("No Cost", 0.0))
            ]
        )
        customer = self.env["res.partner"].create({"name": "Margin Till"})
        make_order(self.env, customer, costly, 100.0, day=self.today - timedelta(days=60))
        self._sell(customer, [(costly, 5, 10.0, {}), (no_cost, 2, 10.0, {})], days_ago=30)
        self._recompute()
        # Order: 100 - 6 = 94; till: 5 x (10 - 6) = 20, plus 20 without cost at 50 % = 10.
        self.assertRecordValues(
            self._stat(customer),
            [{"revenue_total": 124.0, "repeat_order_value": 30.0, "order_count": 2}],
        )

    def test_pos_orders_are_purchases(self):
        self.assertEqual(self.company.retention_revenue_source, "orders_pos")
        both = self.env["res.partner"].create({"name": "Orders and Till"})
        till_only = self.env["res.partner"].create({"name": "Till Only"})
        refunded = self.env["res.partner"].create({"name": "Till Refund"})
        make_order(self.env, both, self.product, 100.0, day=self.today - timedelta(days=60))
        self._sell(both, [self._coffee(5)], days_ago=30)
        # A contact's purchase is its company's.
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": both.id})
        self._sell(contact, [self._coffee(3)], days_ago=10)
        self._sell(till_only, [self._coffee(8)], days_ago=5)
        refunded_order = self._sell(refunded, [self._coffee(10)], days_ago=20)
        self._refund(refunded_order, 4, days_ago=15)
        # A walk-in customer: no statistics, no crash.
        self._sell(False, [self._coffee(7)], days_ago=3)

        self._recompute()

        self.assertRecordValues(
            self._stat(both),
            [
                {
                    "order_count": 3,
                    "purchase_day_count": 3,
                    "revenue_total": 180.0,
                    "revenue_12m": 180.0,
                    "first_order_date": self.today - timedelta(days=60),
                    "last_order_date": self.today - timedelta(days=10),
                    "days_since_last_order": 10,
                    "mean_gap_days": 25.0,
                    "median_gap_days": 25.0,
                    "average_order_value": 60.0,
                    "repeat_order_value": 40.0,
                }
            ],
        )
        self.assertRecordValues(
            self._stat(till_only),
            [{"order_count": 1, "purchase_day_count": 1, "revenue_total": 80.0}],
        )
        # The refund nets off revenue on its day and is no purchase.
        self.assertRecordValues(
            self._stat(refunded),
            [
                {
                    "order_count": 1,
                    "purchase_day_count": 1,
                    "revenue_total": 60.0,
                    "last_order_date": self.today - timedelta(days=20),
                }
            ],
        )
        stats = self.Stat.search([("company_id", "=", self.company.id)])
        self.assertEqual(len(stats), 3)
        self.assertEqual(sum(stats.mapped("revenue_total")), 320.0)

        # The dashboard reads the same purchases.
        self.env["retention.customer.month"].sudo()._rebuild_company(self.company, as_of=self.today)
        months = self.env["retention.customer.month"].search([("company_id", "=", self.company.id)])
        self.assertEqual(sum(months.mapped("revenue")), 320.0)

        # Counting sales orders only leaves the till out.
        self.company.retention_revenue_source = "orders"
        self._recompute()
        self.assertFalse(self._stat(till_only))
        self.assertEqual(self._stat(both).revenue_total, 100.0)

    def test_till_in_another_currency_counts_in_company_currency(self):
        # The test company's currency is worth 0.5 of the till's currency.
        customer = self.env["res.partner"].create({"name": "Foreign Till"})
        self.config = self.other_currency_config
        self.open_new_session()
        order = self._sell(customer, [self._coffee(5)], cash=self.cash_pm2)
        self.assertEqual(order.currency_id, self.other_currency)
        self._recompute()
        self.assertEqual(self._stat(customer).revenue_total, 100.0)

    def test_each_company_counts_its_own_till(self):
        customer = self.env["res.partner"].create({"name": "Two Companies"})
        other_company = self.env["res.company"].create(
            {"name": "Second Roastery", "currency_id": self.company.currency_id.id}
        )
        self._sell(customer, [self._coffee(5)], days_ago=8)
        make_order(
            self.env,
            customer,
            self.product,
            70.0,
            day=self.today - timedelta(days=4),
            company_id=other_company.id,
        )
        self._recompute()
        self._recompute(other_company)
        self.assertRecordValues(self._stat(customer), [{"order_count": 1, "revenue_total": 50.0}])
        self.assertRecordValues(
            self._stat(customer, other_company), [{"order_count": 1, "revenue_total": 70.0}]
        )

    def test_incremental_run_reads_customers_of_new_pos_orders(self):
        customer = self.env["res.partner"].create({"name": "Regular at the Till"})
        self._sell(customer, [self._coffee(5)], days_ago=40)
        self._recompute()
        self.assertEqual(self._stat(customer).revenue_total, 50.0)
        self._sell(customer, [self._coffee(2)], days_ago=1)
        self.Stat.sudo()._recompute_company(self.company, today=self.today, full=False)
        self.assertRecordValues(self._stat(customer), [{"order_count": 2, "revenue_total": 70.0}])

    def test_paid_pos_order_lifts_to_a_club_at_once(self):
        silver = self.env["retention.club"].create(
            {
                "name": "Till Silver",
                "qualification_threshold": 100.0,
                "window_days": 365,
                "grace_days": 30,
            }
        )
        customer = self.env["res.partner"].create({"name": "Rising Regular"})
        Membership = self.env["retention.club.membership"]
        self._sell(customer, [self._coffee(6)])
        self.assertFalse(Membership.search([("partner_id", "=", customer.id)]))
        self._sell(customer, [self._coffee(5)])
        self.assertRecordValues(
            Membership.search([("partner_id", "=", customer.id)]),
            [{"club_id": silver.id, "state": "active", "origin": "qualified"}],
        )


@tagged("post_install", "-at_install")
class TestPosPoints(PosRetentionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = make_points_program(
            cls.env,
            "Till Points",
            reward={"discount_mode": "per_point", "discount": 0.1, "required_points": 10},
        )
        cls.reward = cls.program.reward_ids
        cls.customer = cls.env["res.partner"].create({"name": "Points at the Till"})

    def _card(self):
        return self.env["loyalty.card"].search(
            [("partner_id", "=", self.customer.id), ("program_id", "=", self.program.id)]
        )

    def _entries(self):
        return self.env["retention.points.entry"].search(
            [("card_id", "=", self._card().id)], order="id"
        )

    def _confirm_points(self, order, points, card=None, line_codes=()):
        """What the payment screen sends once the order is synced: the
        points change per card (a new card has a negative id), then the
        loyalty history."""
        key = card.id if card else -1
        coupon_data = {
            str(key): {
                "points": points,
                "program_id": self.program.id,
                "coupon_id": key,
                "partner_id": self.customer.id,
                "barcode": False,
                **({"line_codes": list(line_codes)} if line_codes else {}),
            }
        }
        as_cashier = order.with_user(self.pos_user)
        payload = as_cashier.confirm_coupon_programs(coupon_data)
        as_cashier.add_loyalty_history_lines(
            [
                {
                    "order_id": order.id,
                    "card_id": str(key),
                    "spent": max(-points, 0),
                    "won": max(points, 0),
                }
            ],
            [{"id": u["id"], "old_id": u["old_id"]} for u in payload["coupon_updates"]],
        )
        return payload

    def assertLedgerExact(self):
        card = self._card()
        self.assertAlmostEqual(card.points, sum(self._entries().mapped("points")), places=2)

    def test_points_earned_spent_and_refunded_at_the_till(self):
        first = self._sell(self.customer, [self._coffee(5)], days_ago=2)
        self._confirm_points(first, 50)
        self.assertRecordValues(
            self._entries(),
            [{"kind": "earn", "points": 50, "remaining": 50, "pos_order_id": first.id}],
        )
        self.assertIn(first.name, self._entries().description)
        self.assertEqual(self._card().points, 50)

        # 40 points pay 4.00 off the next order, which earns 26 points.
        second = self._sell(
            self.customer,
            [
                self._coffee(3),
                (
                    self.reward.discount_line_product_id,
                    1,
                    -4.0,
                    {
                        "is_reward_line": True,
                        "reward_id": self.reward.id,
                        "coupon_id": self._card().id,
                        "points_cost": 40,
                        "reward_identifier_code": "till-reward",
                    },
                ),
            ],
            days_ago=1,
        )
        self._confirm_points(second, 26 - 40, card=self._card(), line_codes=["till-reward"])
        self.assertRecordValues(
            self._entries()[1:],
            [
                {"kind": "earn", "points": 26, "pos_order_id": second.id},
                {"kind": "spend", "points": -40, "pos_order_id": second.id},
            ],
        )
        self.assertEqual(self._card().points, 36)
        self.assertLedgerExact()

        # Two of the first order's five coffees come back: 2/5 of its points.
        refund = self._refund(first, 2)
        self.assertRecordValues(
            self._entries()[3:],
            [{"kind": "refund", "points": -20, "pos_order_id": refund.id}],
        )
        self.assertIn(first.name, self._entries()[3].description)
        # The till may count the returned coffees as negative points: taken
        # back once, not twice.
        self._confirm_points(refund, -20, card=self._card())
        self.assertEqual(len(self._entries()), 4)
        self.assertEqual(self._card().points, 16)
        self.assertLedgerExact()

        # The other three come back, but 14 of their 30 points are spent and
        # the program does not allow a negative balance.
        self.program.retention_negative_policy = "block"
        second_refund = self._refund(first, 3)
        self.assertRecordValues(
            self._entries()[4:],
            [{"kind": "refund", "points": -16, "pos_order_id": second_refund.id}],
        )
        self.assertEqual(self._card().points, 0)
        self.assertLedgerExact()
        self.assertTrue(
            any(
                "14 points already spent are not taken back" in body
                for body in self._card().message_ids.mapped("body")
            )
        )

    def test_points_are_booked_once_and_only_for_paid_orders(self):
        order = self._sell(self.customer, [self._coffee(5)])
        self._confirm_points(order, 50)
        # Synced again (a tip added later), the till sends the points again.
        self._confirm_points(order, 50, card=self._card())
        self.assertEqual(self._card().points, 50)
        self.assertEqual(len(self._card().history_ids), 1)
        draft = self.env["pos.order"].create(
            {
                "session_id": self.pos_session.id,
                "partner_id": self.customer.id,
                "amount_total": 0.0,
                "amount_tax": 0.0,
                "amount_paid": 0.0,
                "amount_return": 0.0,
            }
        )
        with self.assertRaisesRegex(UserError, "once it is paid"):
            draft.with_user(self.pos_user).confirm_coupon_programs(
                {str(self._card().id): {"points": 500, "program_id": self.program.id}}
            )
        self.assertEqual(self._card().points, 50)
        self.assertLedgerExact()

    def test_salesperson_cannot_post_points(self):
        order = self._sell(self.customer, [self._coffee(5)])
        self._confirm_points(order, 50)
        card = self._card()
        other = self._sell(self.customer, [self._coffee(1)])
        with self.assertRaises(AccessError):
            other.with_user(self.salesman).with_context(active_test=False).confirm_coupon_programs(
                {str(card.id): {"points": 500, "program_id": self.program.id}}
            )
        for user in (self.salesman, self.pos_user):
            with self.assertRaisesRegex(UserError, "Only retention administrators"):
                card.with_user(user).write({"points": 500})
        self.assertEqual(card.points, 50)
        self.assertLedgerExact()


@tagged("post_install", "-at_install")
class TestPosMemberPricelist(PosRetentionCase):
    def test_member_pricelist_is_sent_to_the_till(self):
        member_pricelist = self.env["product.pricelist"].create(
            {
                "name": "Members -10%",
                "currency_id": self.company.currency_id.id,
                "item_ids": [
                    Command.create(
                        {
                            "compute_price": "percentage",
                            "percent_price": 10,
                            "applied_on": "3_global",
                        }
                    )
                ],
            }
        )
        foreign_pricelist = self.env["product.pricelist"].create(
            {"name": "Members abroad", "currency_id": self.other_currency.id}
        )
        club, foreign_club = self.env["retention.club"].create(
            [
                {"name": "Till Members", "policy": "free", "pricelist_id": member_pricelist.id},
                {"name": "Abroad", "policy": "free", "pricelist_id": foreign_pricelist.id},
            ]
        )
        member = self.env["res.partner"].create({"name": "Member at the Till"})
        guest = self.env["res.partner"].create({"name": "Not a Member"})
        self.env["retention.club.membership"].create(
            {"partner_id": member.id, "club_id": club.id, "origin": "enrolment"}
        )
        self.assertIn(member_pricelist, self.config._get_available_pricelists())
        self.assertNotIn(foreign_pricelist, self.config._get_available_pricelists())

        data = self.pos_session.with_user(self.pos_user).load_data([])
        self.assertIn(member_pricelist.id, [row["id"] for row in data["product.pricelist"]["data"]])
        self.assertIn(
            member_pricelist.item_ids.id,
            [row["id"] for row in data["product.pricelist.item"]["data"]],
        )
        self.assertNotIn("error", data["res.partner"])
        # The customer search of the till reads the fields it loaded.
        fields_loaded = data["res.partner"]["fields"]
        rows = (
            self.env["res.partner"]
            .with_user(self.pos_user)
            .search_read([("id", "in", (member | guest).ids)], fields_loaded, load=False)
        )
        pricelists = {row["id"]: row["retention_pos_pricelist_id"] for row in rows}
        self.assertEqual(pricelists, {member.id: member_pricelist.id, guest.id: False})
        self.assertTrue(foreign_club)
