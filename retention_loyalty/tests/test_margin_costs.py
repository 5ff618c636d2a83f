from datetime import date, datetime, time, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .common import TODAY, RetentionCase, make_playbook, make_points_program, make_product


@tagged("post_install", "-at_install")
class TestMarginValue(RetentionCase):
    """Customer value in margin: cost from the order lines, unknown costs at
    the company's default rate (never all margin), negative margins kept."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {"retention_value_basis": "margin", "retention_default_margin_rate": 20.0}
        )
        cls.costly = make_product(cls.env, "Costly", 100.0)  # cost 60
        cls.costly.standard_price = 60.0
        cls.no_cost = make_product(cls.env, "No Cost Known", 50.0)
        cls.own_service = make_product(cls.env, "Own Service", 30.0)
        cls.own_service.retention_free_of_cost = True
        cls.loss = make_product(cls.env, "Loss Leader", 40.0)  # cost 55
        cls.loss.standard_price = 55.0

    @classmethod
    def _history_order(cls, partner, days_ago, lines):
        """A confirmed order of (product, quantity, unit price) lines."""
        return cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "date_order": datetime.combine(TODAY - timedelta(days=days_ago), time(10)),
                "state": "sale",
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "price_unit": price,
                            "tax_id": [Command.clear()],
                        }
                    )
                    for product, qty, price in lines
                ],
            }
        )

    def _margins(self, partner):
        """{order id: (revenue, margin)} as the statistics read them."""
        Stat = self.env["retention.customer.stat"]
        rows = self.env.execute_query(
            SQL(
                "SELECT document_id, amount, margin FROM (%s) purchases",
                Stat._purchases_query(self.company, TODAY, [partner.commercial_partner_id.id]),
            )
        )
        return {row[0]: (float(row[1]), float(row[2])) for row in rows}

    def test_margin_per_order_by_hand(self):
        customer = self._customer("Margin Mia")
        first = self._history_order(
            customer, 100, [(self.costly, 2, 100.0), (self.no_cost, 1, 50.0)]
        )
        second = self._history_order(
            customer, 40, [(self.own_service, 1, 30.0), (self.loss, 1, 40.0)]
        )
        # 2 x 100 - 2 x 60 = 80, plus 50 of unknown cost at 20 % = 10 (not 50);
        # 30 free of cost = 30, 40 - 55 = -15.
        self.assertEqual(
            self._margins(customer), {first.id: (250.0, 90.0), second.id: (70.0, 15.0)}
        )
        self._recompute()
        stat = self._stat(customer)
        self.assertAlmostEqual(stat.revenue_total, 105.0)
        self.assertAlmostEqual(stat.revenue_12m, 105.0)
        self.assertAlmostEqual(stat.average_order_value, 52.5)
        self.assertAlmostEqual(stat.repeat_order_value, 15.0)
        self.assertEqual(stat.value_basis, "margin")
        labels = self.env["retention.customer.stat"].fields_get(
            ["revenue_total", "clv"], ["string"]
        )
        self.assertEqual(labels["revenue_total"]["string"], "Lifetime Margin")
        self.assertEqual(labels["clv"]["string"], "Predicted Lifetime Value (margin)")

    def test_revenue_basis_is_unchanged(self):
        self.company.retention_value_basis = "revenue"
        customer = self._customer("Revenue Rob")
        self._history_order(customer, 100, [(self.costly, 2, 100.0), (self.no_cost, 1, 50.0)])
        self._history_order(customer, 40, [(self.own_service, 1, 30.0), (self.loss, 1, 40.0)])
        self._recompute(full=True)
        stat = self._stat(customer)
        self.assertAlmostEqual(stat.revenue_total, 320.0)
        self.assertAlmostEqual(stat.repeat_order_value, 70.0)
        labels = self.env["retention.customer.stat"].fields_get(["revenue_total"], ["string"])
        self.assertEqual(labels["revenue_total"]["string"], "Lifetime Revenue")

    def test_negative_margin_customers_stay_negative(self):
        losing = self._customer("Losing Lou")
        for days_ago in (90, 60, 30):
            self._history_order(losing, days_ago, [(self.loss, 1, 40.0)])
        self._recompute()
        stat = self._stat(losing)
        self.assertAlmostEqual(stat.revenue_total, -45.0)
        # Three purchase days: bought (revenue > 0) though each lost 15.
        self.assertEqual(stat.purchase_day_count, 3)
        self.assertAlmostEqual(stat.expected_order_value, -15.0)
        self.assertLess(stat.value_if_retained, 0.0)
        self.assertLessEqual(stat.clv, 0.0)
        self.assertLessEqual(stat.value_at_stake, 0.0)

    def test_cost_taken_at_confirmation(self):
        customer = self._customer("Snapshot Sam")
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.costly.id,
                            "product_uom_qty": 1,
                            "price_unit": 100.0,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )
        with freeze_time(TODAY):
            order.action_confirm()
        if "purchase_price" not in self.env["sale.order.line"]._fields:
            self.assertEqual(order.order_line.retention_unit_cost, 60.0)
        self.costly.standard_price = 80.0  # later cost changes leave the order alone
        self.assertEqual(self._margins(customer), {order.id: (100.0, 40.0)})

    def test_default_margin_rate_is_checked(self):
        with self.assertRaisesRegex(ValidationError, "below 100"):
            self.company.retention_default_margin_rate = 100.0

    def test_changing_the_basis_asks_for_a_full_run(self):
        self.company.retention_full_run_requested = False
        self.company.retention_value_basis = "revenue"
        self.assertTrue(self.company.retention_full_run_requested)


@tagged("post_install", "-at_install")
class TestIncentiveCosts(RetentionCase):
    """Costs of rewards used on confirmed orders, recorded at confirmation,
    removed when the order is cancelled."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gift = make_product(cls.env, "Gift Mug", 25.0)
        cls.gift.standard_price = 7.5
        cls.points = make_points_program(
            cls.env,
            "Cost Points",
            reward={"discount": 10, "discount_mode": "per_order", "required_points": 50},
        )
        cls.Cost = cls.env["retention.incentive.cost"]
        cls.customer = cls._customer("Cost Cora", user_id=cls.salesman.id)

    def _quotation(self, amount=100.0, product=None):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": (product or self.product).id,
                            "product_uom_qty": 1,
                            "price_unit": amount,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )

    def _claim(self, order, reward, **kwargs):
        order._update_programs_and_rewards()
        coupon = next(
            coupon
            for coupon, rewards in order._get_claimable_rewards().items()
            if reward in rewards
        )
        order._apply_program_reward(reward, coupon, **kwargs)
        return coupon

    def _costs(self, order):
        return [
            (cost.kind, cost.amount) for cost in self.Cost.search([("order_id", "=", order.id)])
        ]

    def test_points_redeemed_cost_the_discount_and_cancel_removes_it(self):
        self.env["loyalty.card"].create(
            {"program_id": self.points.id, "partner_id": self.customer.id, "points": 120}
        )
        order = self._quotation(100.0)
        self._claim(order, self.points.reward_ids)
        order.action_confirm()
        self.assertEqual(self._costs(order), [("points", 10.0)])
        cost = self.Cost.search([("order_id", "=", order.id)])
        self.assertEqual(cost.program_id, self.points)
        self.assertEqual(cost.partner_id, self.customer)
        # Confirming again counts once.
        self.Cost._record_order_rewards(order)
        self.assertEqual(self._costs(order), [("points", 10.0)])
        order._action_cancel()
        self.assertEqual(self._costs(order), [])
        # Odoo takes the reward lines off a cancelled order: confirmed again, it
        # used no reward and costs nothing.
        order.action_draft()
        order.action_confirm()
        self.assertEqual(self._costs(order), [])

    def test_free_product_costs_its_cost(self):
        promo = self.env["loyalty.program"].create(
            {
                "name": "Free mug",
                "program_type": "promotion",
                "trigger": "auto",
                "applies_on": "current",
                "rule_ids": [Command.create({"minimum_amount": 0})],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "product",
                            "reward_product_id": self.gift.id,
                            "reward_product_qty": 2,
                        }
                    )
                ],
            }
        )
        order = self._quotation(100.0)
        self._claim(order, promo.reward_ids, product=self.gift)
        order.action_confirm()
        # Two mugs at a cost of 7.50, given for nothing.
        self.assertEqual(self._costs(order), [("gift", 15.0)])

    def test_playbook_voucher_cost_goes_to_its_run(self):
        coupons = self.env["loyalty.program"].create(
            {
                "name": "Win-back voucher",
                "program_type": "coupons",
                "applies_on": "current",
                "trigger": "with_code",
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 12,
                            "discount_mode": "per_order",
                            "required_points": 1,
                        }
                    )
                ],
            }
        )
        card = self.env["loyalty.card"].create(
            {"program_id": coupons.id, "partner_id": self.customer.id, "points": 1}
        )
        playbook = make_playbook(self.env, "overdue")
        run = self.env["retention.playbook.run"].create(
            {
                "playbook_id": playbook.id,
                "partner_id": self.customer.id,
                "date": date.today(),
                "state": "done",
                "card_id": card.id,
                "incentive_cost": 12.0,
            }
        )
        order = self._quotation(80.0)
        order._try_apply_code(card.code)
        order._apply_program_reward(coupons.reward_ids, card)
        order.action_confirm()
        cost = self.Cost.search([("order_id", "=", order.id)])
        self.assertEqual((cost.kind, cost.amount), ("discount", 12.0))
        self.assertEqual(cost.playbook_run_id, run)
        self.assertEqual(cost.playbook_id, playbook)
        # Face value as handed out stays; the realised cost is separate.
        self.assertEqual(run.incentive_cost, 12.0)
        self.assertEqual(run.realised_cost, 12.0)

    def test_playbook_emails_cost_the_company_rate(self):
        self.company.retention_email_cost = 0.25
        template = self.env.ref("retention_loyalty.mail_template_playbook_thank_you")
        playbook = make_playbook(
            self.env,
            "order_confirmed",
            action_ids=[Command.create({"kind": "email", "mail_template_id": template.id})],
        )
        self.customer.email = "cora@example.com"
        silent = self._customer("Silent Sid")  # no address: no e-mail, no cost
        for partner in (self.customer, silent):
            order = self._quotation(60.0)
            order.partner_id = partner
            order.action_confirm()
        [cost] = self.Cost.search([("kind", "=", "email")])
        run = self.env["retention.playbook.run"].search(
            [("playbook_id", "=", playbook.id), ("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(
            (cost.amount, cost.playbook_run_id, cost.partner_id), (0.25, run, self.customer)
        )

    def test_salesperson_reads_own_company_costs_only(self):
        self.env["loyalty.card"].create(
            {"program_id": self.points.id, "partner_id": self.customer.id, "points": 60}
        )
        order = self._quotation(100.0)
        self._claim(order, self.points.reward_ids)
        order.action_confirm()
        other = self.env["res.company"].create({"name": "Other Cost Co"})
        self.Cost.sudo().create(
            {"company_id": other.id, "date": TODAY, "kind": "email", "amount": 1.0}
        )
        costs = self.Cost.with_user(self.salesman).search([])
        self.assertEqual(costs.mapped("amount"), [10.0])
        self.assertFalse(self.Cost.with_user(self.salesman).has_access("create"))


@tagged("post_install", "-at_install")
class TestWinningVsKeeping(RetentionCase):
    """Last month's acquisition spend per new customer next to incentive
    costs per retained customer, on the Retention home."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "retention_active_days": 90,
                "retention_churn_days": 90,
                "retention_reactivation_days": 90,
                "retention_acquisition_source": "fixed",
                "retention_acquisition_monthly": 1000.0,
            }
        )
        cls.admin = new_test_user(
            cls.env, login="rl_cost_admin", groups="retention_loyalty.group_retention_manager"
        )
        # May 2026: Ann (bought in March and May) and Ben (April) are retained:
        # active at the end of April and of May; Cleo and Dan are new; Eve
        # (December) was no longer active.
        for name, days in (
            ("Ann", (date(2026, 3, 20), date(2026, 5, 10))),
            ("Ben", (date(2026, 4, 25),)),
            ("Cleo", (date(2026, 5, 5),)),
            ("Dan", (date(2026, 5, 20),)),
            ("Eve", (date(2025, 12, 1),)),
        ):
            partner = cls._customer(f"Winning {name}")
            cls._orders(partner, [(TODAY - day).days for day in days])
        Cost = cls.env["retention.incentive.cost"].sudo()
        for day, amount in (
            (date(2026, 5, 3), 12.0),
            (date(2026, 5, 31), 8.0),
            (date(2026, 4, 30), 100.0),
            (date(2026, 6, 1), 50.0),
        ):
            Cost.create(
                {"company_id": cls.company.id, "date": day, "kind": "email", "amount": amount}
            )
        cls.env["retention.customer.month"]._rebuild_company(cls.company, as_of=TODAY)

    def _tile(self, user):
        with freeze_time(TODAY):
            tiles = self.env["retention.dashboard"].with_user(user).get_tiles()["tiles"]
        return next((tile for tile in tiles if tile["key"] == "winning_vs_keeping"), None)

    def test_fixed_spend(self):
        tile = self._tile(self.admin)
        self.assertEqual(tile["value"], 500.0)  # 1000 / 2 new customers
        self.assertEqual(tile["detail_value"], 10.0)  # (12 + 8) / 2 retained customers
        self.assertIsNone(self._tile(self.salesman))

    def test_analytic_spend(self):
        plan = self.env["account.analytic.plan"].create({"name": "Marketing"})
        account = self.env["account.analytic.account"].create(
            {"name": "Acquisition", "plan_id": plan.id, "company_id": self.company.id}
        )
        for day, amount in (
            (date(2026, 5, 2), -300.0),
            (date(2026, 5, 28), -100.0),
            (date(2026, 5, 15), 50.0),  # income: no spend
            (date(2026, 4, 30), -999.0),
        ):
            self.env["account.analytic.line"].create(
                {"name": "Ads", "account_id": account.id, "date": day, "amount": amount}
            )
        self.company.write(
            {
                "retention_acquisition_source": "analytic",
                "retention_acquisition_analytic_id": account.id,
            }
        )
        self.assertEqual(self._tile(self.admin)["value"], 200.0)  # 400 / 2
