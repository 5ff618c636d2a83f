from datetime import datetime, time, timedelta

from odoo import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from odoo.addons.retention_loyalty.tests.common import make_order, make_points_program

from .test_pos_retention import PosRetentionCase


@tagged("post_install", "-at_install")
class TestPosOrderPlaybooks(PosRetentionCase):
    """A paid PoS order of a known customer triggers the "order confirmed"
    playbooks like a confirmed sales order, once per order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Run = cls.env["retention.playbook.run"]
        cls.customer = cls.env["res.partner"].create(
            {"name": "Regular at the Bar", "user_id": cls.salesman.id}
        )
        # Only this test's playbooks.
        cls.env["retention.playbook"].search([]).active = False

    def _playbook(self, **values):
        return self.env["retention.playbook"].create(
            {
                "name": values.pop("name", "Thank you"),
                "trigger": "order_confirmed",
                "control_percent": 0,
                # No cool-down: only the order itself may keep a second run away.
                "cooldown_days": 0,
                "action_ids": [
                    Command.create(
                        {
                            "kind": "activity",
                            "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                            "deadline_days": 2,
                            "note": "<p>Thank {customer}: bought {products}</p>",
                        }
                    )
                ],
                **values,
            }
        )

    def _runs(self, playbook):
        return self.Run.search([("playbook_id", "=", playbook.id)], order="id")

    def test_a_paid_order_at_the_till_runs_the_order_playbooks_once(self):
        playbook = self._playbook()
        order = self._sell(self.customer, [self._coffee(3)])
        runs = self._runs(playbook)
        self.assertRecordValues(
            runs,
            [
                {
                    "partner_id": self.customer.id,
                    "pos_order_id": order.id,
                    "order_id": False,
                    "state": "open",
                }
            ],
        )
        self.assertRecordValues(
            runs.activity_id,
            [{"user_id": self.salesman.id, "res_id": self.customer.id, "summary": "Thank you"}],
        )
        # The note names what was bought at the till.
        self.assertIn("Thank Regular at the Bar: bought Till Coffee", str(runs.activity_id.note))
        self.assertTrue(order.retention_playbooks_done)

        # Paid again, and sent again by the till: still one follow-up.
        order.with_user(self.pos_user)._process_saved_order(False)
        order.with_user(self.pos_user).action_pos_order_paid()
        data = self.create_ui_order_data([(self.product, 3)], customer=self.customer)
        data["uuid"] = order.uuid
        self.env["pos.order"].with_user(self.pos_user).sync_from_ui([data])
        self.assertEqual(len(self._runs(playbook)), 1)

        # A walk-in customer and a return are no purchase to follow up.
        self._sell(False, [self._coffee(2)])
        refund = self._refund(order, 1)
        self.assertFalse(refund.retention_playbooks_done)
        self.assertEqual(len(self._runs(playbook)), 1)

        # Once the follow-up is done, the next purchase is followed up in its turn.
        runs.activity_id.action_done()
        second = self._sell(self.customer, [self._coffee(1)])
        self.assertEqual(self._runs(playbook).pos_order_id, order | second)

    def _row_version(self, table, record):
        self.env.flush_all()
        self.env.cr.execute(
            SQL("SELECT ctid::text FROM %s WHERE id = %s", SQL.identifier(table), record.id)
        )
        return self.env.cr.fetchone()[0]

    def test_paying_at_the_till_writes_no_shared_row_and_costs_the_same_for_more_orders(self):
        playbook = self._playbook()
        versions = [
            self._row_version("retention_playbook", playbook),
            self._row_version("res_company", self.company),
        ]
        self.env.registry.cache_invalidated.clear()
        customers = self.env["res.partner"].create(
            [{"name": f"Till Regular {index}", "user_id": self.salesman.id} for index in range(3)]
        )
        orders = self.env["pos.order"].concat(
            *(self._sell(customer, [self._coffee(1)]) for customer in customers)
        )
        self.assertEqual(len(self._runs(playbook)), 3)
        self.assertEqual(
            [
                self._row_version("retention_playbook", playbook),
                self._row_version("res_company", self.company),
            ],
            versions,
        )
        self.assertFalse(playbook.last_evaluated)
        self.assertFalse(self.env.registry.cache_invalidated)  # nothing to signal to workers

        def queries_to_follow_up(paid):
            # Followed up already (open follow-ups): only the look-ups count.
            paid.retention_playbooks_done = False
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            paid.with_user(self.pos_user)._retention_run_order_playbooks()
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        queries_to_follow_up(orders)  # warm the caches up
        self.assertEqual(queries_to_follow_up(orders[:1]), queries_to_follow_up(orders))
        self.assertEqual(len(self._runs(playbook)), 3)

    def test_first_and_nth_orders_count_the_till_and_the_sales_orders(self):
        first = self._playbook(name="First purchase", order_mode="first")
        second = self._playbook(name="Second purchase", order_mode="nth", order_number=2)
        third = self._playbook(name="Third purchase", order_mode="nth", order_number=3)
        make_order(self.env, self.customer, self.product, 80.0, day=self.today - timedelta(days=30))
        till = self._sell(self.customer, [self._coffee(2)], days_ago=10)
        self.assertFalse(self._runs(first))
        self.assertEqual(self._runs(second).pos_order_id, till)
        self.assertFalse(self._runs(third))
        # A contact's order is its company's third purchase.
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": self.customer.id})
        later = self._sell(contact, [self._coffee(1)], days_ago=1)
        self.assertRecordValues(
            self._runs(third), [{"partner_id": self.customer.id, "pos_order_id": later.id}]
        )
        self.assertEqual(len(self._runs(second)), 1)
        self.assertFalse(self._runs(first))

    def test_a_till_that_does_not_count_triggers_nothing(self):
        playbook = self._playbook()
        self.company.retention_revenue_source = "orders"
        order = self._sell(self.customer, [self._coffee(3)])
        self.assertFalse(self._runs(playbook))
        self.assertFalse(order.retention_playbooks_done)

    def test_delayed_order_playbook_follows_up_a_till_order_from_the_cron(self):
        playbook = self._playbook(order_delay_days=7)
        playbook.last_evaluated = self.today - timedelta(days=1)
        week_ago = self._sell(self.customer, [self._coffee(3)], days_ago=7)
        self._sell(self.customer, [self._coffee(1)], days_ago=6)
        self.assertFalse(self._runs(playbook))
        playbook._evaluate(self.today)
        self.assertRecordValues(
            self._runs(playbook), [{"partner_id": self.customer.id, "pos_order_id": week_ago.id}]
        )
        # Evaluated again the same day: the order is followed up already.
        playbook.last_evaluated = self.today - timedelta(days=1)
        playbook._evaluate(self.today)
        self.assertEqual(len(self._runs(playbook)), 1)


@tagged("post_install", "-at_install")
class TestPosBasketsAndReorder(PosRetentionCase):
    """Products bought together and the usual products read the till's
    baskets too, net of returns, in company currency."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Product = cls.env["product.product"]
        cls.croissant, cls.juice = Product.create(
            [
                {
                    "name": name,
                    "type": "service",
                    "available_in_pos": True,
                    "list_price": 4.0,
                    "taxes_id": [Command.clear()],
                }
                for name in ("Till Croissant", "Till Juice")
            ]
        )
        cls.Affinity = cls.env["retention.product.affinity"]

    def _line(self, product, qty, price=4.0, **extra):
        return (product, qty, price, extra)

    def test_products_bought_together_count_the_till_baskets(self):
        Partner = self.env["res.partner"]
        names = ["Both at Till", "Mixed", "Both Ordered", "Juice Only", "Returned", "Coffee Only"]
        both_till, mixed, both_ordered, juice_only, returned, coffee_only = Partner.create(
            [{"name": name} for name in names]
        )
        # Coffee and a croissant in one basket at the till.
        self._sell(both_till, [self._coffee(1), self._line(self.croissant, 2)])
        # Coffee at the till, a croissant on a sales order.
        self._sell(mixed, [self._coffee(1)])
        make_order(self.env, mixed, self.croissant, 4.0, day=self.today - timedelta(days=3))
        order = make_order(
            self.env, both_ordered, self.product, 10.0, day=self.today - timedelta(days=5)
        )
        order.order_line = [
            Command.create(
                {"product_id": self.croissant.id, "product_uom_qty": 1, "price_unit": 4.0}
            )
        ]
        make_order(self.env, juice_only, self.juice, 4.0, day=self.today - timedelta(days=5))
        # The croissants came back: only the coffee was bought.
        basket = self._sell(returned, [self._coffee(1), self._line(self.croissant, 2)])
        croissant_line = basket.lines.filtered(lambda line: line.product_id == self.croissant)
        self._sell(
            returned, [self._line(self.croissant, -2, refunded_orderline_id=croissant_line.id)]
        )
        self._sell(coffee_only, [self._coffee(2)])
        # A walk-in's basket is nobody's.
        self._sell(False, [self._coffee(1), self._line(self.croissant, 1)])

        self.Affinity.sudo()._refresh_company(self.company, today=self.today)

        # 6 customers; coffee bought by 5, croissants by 3, both by 3:
        # coffee -> croissant 3/5 = 60 %, lift 3 x 6 / (5 x 3) = 1.2;
        # croissant -> coffee 3/3 = 100 %, the same lift.
        pairs = self.Affinity.search(
            [
                ("company_id", "=", self.company.id),
                ("product_id", "in", (self.product | self.croissant).ids),
            ],
            order="product_id, related_product_id",
        )
        self.assertRecordValues(
            pairs.sorted(lambda pair: pair.product_id != self.product),
            [
                {
                    "product_id": self.product.id,
                    "related_product_id": self.croissant.id,
                    "customer_count": 3,
                    "confidence": 60.0,
                    "lift": 1.2,
                    "score": 72.0,
                },
                {
                    "product_id": self.croissant.id,
                    "related_product_id": self.product.id,
                    "customer_count": 3,
                    "confidence": 100.0,
                    "lift": 1.2,
                    "score": 120.0,
                },
            ],
        )
        # Those who only had coffee at the till are offered the croissant.
        suggestions = self.Affinity.sudo()._suggestions(
            self.company, (coffee_only | returned | both_till).ids
        )
        self.assertEqual(
            {customer: products.ids for customer, products in suggestions.items()},
            {coffee_only.id: self.croissant.ids, returned.id: self.croissant.ids},
        )

    def test_usual_products_read_the_till_in_company_currency(self):
        customer = self.env["res.partner"].create({"name": "Usual at Two Tills"})
        make_order(self.env, customer, self.juice, 12.0, day=self.today - timedelta(days=20))
        self._sell(customer, [self._coffee(2), self._line(self.croissant, 1)], days_ago=10)
        # The till abroad: 10.00 there is 20.00 in the company's currency.
        self.config = self.other_currency_config
        self.open_new_session()
        abroad = self._sell(customer, [self._coffee(5)], days_ago=2, cash=self.cash_pm2)
        self._sell(
            customer,
            [self._coffee(-2, refunded_orderline_id=abroad.lines.id)],
            cash=self.cash_pm2,
        )

        history = customer._retention_recent_orders(self.company, 4)[customer.id]
        currency = self.company.currency_id.id
        self.assertEqual(
            [(order.quantities, order.prices, order.currency) for order in history],
            [
                ({self.product.id: 3.0}, {self.product.id: 20.0}, currency),
                (
                    {self.product.id: 2.0, self.croissant.id: 1.0},
                    {self.product.id: 10.0, self.croissant.id: 4.0},
                    currency,
                ),
                ({self.juice.id: 1.0}, {self.juice.id: 12.0}, currency),
            ],
        )
        # The last two purchases only.
        self.assertEqual(len(customer._retention_recent_orders(self.company, 2)[customer.id]), 2)


@tagged("post_install", "-at_install")
class TestPosPointsMultipliers(PosRetentionCase):
    """Points earned at the till get the customer's multiplier and the
    bonus campaigns, as a sales order's, with the reason on the entry."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = make_points_program(cls.env, "Till Points")
        cls.customer = cls.env["res.partner"].create({"name": "Double Points Fan"})
        cls.pastries = cls.env["product.category"].create({"name": "Till Pastries"})
        cls.pastry = cls.env["product.product"].create(
            {
                "name": "Till Pastry",
                "type": "service",
                "available_in_pos": True,
                "list_price": 10.0,
                "taxes_id": [Command.clear()],
                "categ_id": cls.pastries.id,
            }
        )
        cls.manager = new_test_user(
            cls.env,
            login="rl_pos_retention_manager",
            groups="base.group_user,retention_loyalty.group_retention_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _campaign(self, multiplier=2.0, **values):
        return (
            self.env["retention.points.campaign"]
            .with_user(self.manager)
            .create(
                {
                    "name": values.pop("name", "Double Till Week"),
                    "program_id": self.program.id,
                    "date_from": self.today - timedelta(days=1),
                    "date_to": self.today + timedelta(days=1),
                    "multiplier": multiplier,
                    **values,
                }
            )
        )

    def _card(self):
        return self.env["loyalty.card"].search(
            [("partner_id", "=", self.customer.id), ("program_id", "=", self.program.id)]
        )

    def _entries(self):
        return self.env["retention.points.entry"].search(
            [("card_id", "=", self._card().id)], order="id"
        )

    def _confirm_points(self, order, points):
        """What the payment screen sends: the till's own count of points."""
        card = self._card()
        key = card.id or -1
        as_cashier = order.with_user(self.pos_user)
        payload = as_cashier.confirm_coupon_programs(
            {
                str(key): {
                    "points": points,
                    "program_id": self.program.id,
                    "coupon_id": key,
                    "partner_id": self.customer.id,
                    "barcode": False,
                }
            }
        )
        as_cashier.add_loyalty_history_lines(
            [{"order_id": order.id, "card_id": str(key), "spent": 0, "won": max(points, 0)}],
            [{"id": u["id"], "old_id": u["old_id"]} for u in payload["coupon_updates"]],
        )
        return payload

    def test_a_campaign_doubles_the_points_earned_at_the_till_and_a_refund_takes_back_its_share(
        self,
    ):
        self._campaign()
        order = self._sell(self.customer, [self._coffee(5)])
        payload = self._confirm_points(order, 50)
        self.assertRecordValues(
            self._entries(),
            [{"kind": "earn", "points": 100, "remaining": 100, "pos_order_id": order.id}],
        )
        self.assertEqual(
            self._entries().description,
            f"Earned at the till on {order.name}: 50 base + 50 Double Till Week",
        )
        # The till shows the balance the ledger booked; the history says the same.
        self.assertEqual(payload["coupon_updates"][0]["points"], 100)
        self.assertEqual(self._card().points, 100)
        self.assertRecordValues(self._card().history_ids, [{"issued": 100, "used": 0}])

        # Two of the five coffees come back: 2/5 of the 100 points.
        refund = self._refund(order, 2)
        self.assertRecordValues(
            self._entries()[1:], [{"kind": "refund", "points": -40, "pos_order_id": refund.id}]
        )
        self.assertEqual(self._card().points, 60)

    def test_customer_multiplier_and_a_category_campaign_add_up(self):
        vip = self.env["res.partner.category"].create(
            {"name": "Till VIP", "retention_points_multiplier": 1.5}
        )
        self.customer.category_id = vip
        self._campaign(multiplier=3.0, name="Pastry Days", product_category_ids=self.pastries.ids)
        # 30.00 of coffee and 30.00 of pastries: 60 base points; x1.5 for the
        # customer = 90; the campaign triples the pastries' half: + 90 x 2 x 0.5.
        order = self._sell(self.customer, [self._coffee(3), (self.pastry, 3, 10.0, {})])
        self._confirm_points(order, 60)
        self.assertRecordValues(self._entries(), [{"kind": "earn", "points": 180}])
        self.assertEqual(
            self._entries().description,
            f"Earned at the till on {order.name}: 60 base + 30 customer multiplier x1.5 "
            "+ 90 Pastry Days",
        )
        self.assertEqual(self._card().points, 180)

    def test_no_campaign_outside_its_dates_or_for_other_customers(self):
        self._campaign(
            name="Last Week",
            date_from=self.today - timedelta(days=9),
            date_to=self.today - timedelta(days=2),
        )
        # The customer has no figures yet: no high churn risk either.
        self._campaign(name="Winning Back", risk_level="high")
        order = self._sell(self.customer, [self._coffee(4)])
        self._confirm_points(order, 40)
        self.assertRecordValues(self._entries(), [{"kind": "earn", "points": 40}])
        self.assertEqual(self._entries().description, f"Earned at the till on {order.name}")

    def test_campaign_day_is_the_day_the_order_was_paid(self):
        self._campaign(date_from=self.today, date_to=self.today)
        yesterday = self._sell(self.customer, [self._coffee(2)], days_ago=1)
        self.assertEqual(
            yesterday.date_order,
            datetime.combine(self.today - timedelta(days=1), time(10)),
        )
        self._confirm_points(yesterday, 20)
        self.assertEqual(self._entries().points, 20)
