from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import PointsCardMixin, make_order, make_points_program, make_product

TODAY = date(2026, 6, 15)

# The record field each tile's figure and detail add up ("count": the number of records).
TILE_MEASURES = {
    "at_risk": ("count", "value_at_stake"),
    "followups": ("count", None),
    "contact_coverage": (None, "count"),
    "retained_revenue": ("revenue_existing", None),
    "points_liability": ("value", "points"),
    "mrr": ("mrr", "count"),
    "churn": ("churned_mrr", "count"),
}


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestRetentionHome(PointsCardMixin, TransactionCase):
    """The Retention home: figures worked out by hand, each equal to the list it opens,
    and only what the user may read."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.company.partner_id.tz = "UTC"
        cls.other_company = cls.env["res.company"].create({"name": "Home Other Company"})
        cls.salesman = new_test_user(
            cls.env, login="rl_home_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.manager = new_test_user(
            cls.env,
            login="rl_home_manager",
            groups="sales_team.group_sale_manager",
            company_ids=[Command.set([cls.company.id, cls.other_company.id])],
        )
        cls.product = make_product(cls.env, "Home Coffee", 10.0)
        cls.customers = cls.env["res.partner"].create(
            [{"name": f"Home Customer {n}", "user_id": cls.salesman.id} for n in range(4)]
        )
        cls.tier = cls.env["retention.value.tier"].create(
            {"name": "Home A", "cutoff_percent": 33.0, "contact_cadence_days": 30}
        )
        Stat = cls.env["retention.customer.stat"]
        for partner, risk, at_stake, company in (
            (cls.customers[0], "medium", 100.0, cls.company),
            (cls.customers[1], "high", 250.0, cls.company),
            (cls.customers[2], "low", 900.0, cls.company),
            (cls.customers[3], "high", 999.0, cls.other_company),
        ):
            Stat.create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "risk_level": risk,
                    "value_at_stake": at_stake,
                    "value_tier_id": cls.tier.id if company == cls.company else False,
                }
            )

    def _tiles(self, user=None, **context):
        env = self.env(user=user or self.manager, context=dict(self.env.context, **context))
        return {tile["key"]: tile for tile in env["retention.dashboard"].get_tiles()["tiles"]}

    def _followup(self, user, deadline, playbook):
        return self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": self.customers[0].id,
                "user_id": user.id,
                "date_deadline": deadline,
                "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                "retention_playbook_id": playbook.id,
            }
        )

    def _assert_tile_counts_its_list(self, tile, user):
        """The figure and its detail, recomputed from the action the tile opens."""
        action = tile["action"]
        records = self.env[action["res_model"]].with_user(user).search(action["domain"])
        value_measure, detail_measure = TILE_MEASURES[tile["key"]]
        for measure, shown in (
            (value_measure, tile["value"]),
            (detail_measure, tile.get("detail_value")),
        ):
            if measure is None:
                continue
            expected = len(records) if measure == "count" else sum(records.mapped(measure))
            self.assertAlmostEqual(shown, expected, places=2, msg=f"{tile['key']} {measure}")

    def test_customers_at_risk_of_this_company_with_their_value_at_stake(self):
        tile = self._tiles()["at_risk"]
        # Medium and high risk of this company; the other company's customer waits there.
        self.assertEqual(tile["value"], 2)
        self.assertEqual(tile["detail_value"], 350.0)
        self._assert_tile_counts_its_list(tile, self.manager)
        self.assertEqual(tile["action"]["res_model"], "retention.customer.stat")
        in_other = self._tiles(allowed_company_ids=[self.other_company.id])["at_risk"]
        self.assertEqual((in_other["value"], in_other["detail_value"]), (1, 999.0))

    def test_follow_ups_due_are_the_users_own(self):
        call = self.env.ref("mail.mail_activity_data_call")
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Home playbook",
                "trigger": "overdue",
                "action_ids": [Command.create({"kind": "activity", "activity_type_id": call.id})],
            }
        )
        self._followup(self.salesman, TODAY, playbook)
        self._followup(self.salesman, TODAY - timedelta(days=3), playbook)
        self._followup(self.salesman, TODAY + timedelta(days=1), playbook)
        self._followup(self.manager, TODAY - timedelta(days=1), playbook)
        tile = self._tiles(self.salesman)["followups"]
        self.assertEqual((tile["value"], tile["detail_value"]), (2, 1))
        self._assert_tile_counts_its_list(tile, self.salesman)
        self.assertEqual(tile["title"], "My Follow-ups Due")
        # Administrators watch the team: the salesperson's two and their own overdue call.
        manager_tile = self._tiles()["followups"]
        self.assertEqual((manager_tile["value"], manager_tile["detail_value"]), (3, 2))
        self.assertEqual(manager_tile["title"], "Follow-ups Due (Team)")
        self._assert_tile_counts_its_list(manager_tile, self.manager)

    def test_contact_plan_kept_and_who_is_left_to_contact(self):
        make_order(self.env, self.customers[0], self.product, 10.0, day=TODAY - timedelta(days=10))
        make_order(self.env, self.customers[1], self.product, 10.0, day=TODAY - timedelta(days=45))
        other_seller = new_test_user(
            self.env, login="rl_home_other_seller", groups="sales_team.group_sale_salesman"
        )
        self.customers[2].user_id = other_seller
        tile = self._tiles()["contact_coverage"]
        # Three customers of tier A (every 30 days): one ordered 10 days ago.
        self.assertAlmostEqual(tile["value"], 100.0 / 3)
        self.assertEqual(tile["detail_value"], 2)
        self._assert_tile_counts_its_list(tile, self.manager)
        mine = self._tiles(self.salesman)["contact_coverage"]
        self.assertEqual((mine["value"], mine["detail_value"]), (50.0, 1))
        self.assertEqual(mine["title"], "My Contact Plan Kept")
        self._assert_tile_counts_its_list(mine, self.salesman)

    def test_revenue_from_existing_customers_this_month_and_last(self):
        returning, newcomer = self.customers[:2]
        make_order(self.env, returning, self.product, 100.0, day=date(2026, 1, 10))
        make_order(self.env, returning, self.product, 200.0, day=date(2026, 5, 20))
        make_order(self.env, returning, self.product, 300.0, day=date(2026, 6, 2))
        make_order(self.env, newcomer, self.product, 700.0, day=date(2026, 6, 3))
        self.env["retention.customer.month"]._rebuild_company(self.company)
        tile = self._tiles()["retained_revenue"]
        self.assertEqual((tile["value"], tile["detail_value"]), (300.0, 200.0))
        self._assert_tile_counts_its_list(tile, self.manager)

    def test_points_liability_and_what_expires_within_thirty_days(self):
        self.program = make_points_program(
            self.env,
            "Home Points",
            reward={"discount": 0.5, "discount_mode": "per_point", "required_points": 1},
        )
        self.program.retention_redeem_reward_id = self.program.reward_ids
        self.customer = self.customers[0]
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.customer.id, "points": 0}
        )
        Entry = self.env["retention.points.entry"]
        for points, expiry in (
            (40.0, TODAY + timedelta(days=10)),
            (60.0, TODAY + timedelta(days=90)),
        ):
            Entry.create(
                {
                    "card_id": card.id,
                    "kind": "adjust",
                    "points": points,
                    "remaining": points,
                    "expiry_date": expiry,
                    "description": "Home test",
                }
            )
        tile = self._tiles()["points_liability"]
        self.assertEqual((tile["value"], tile["detail_value"]), (50.0, 100.0))
        self.assertIn("40 of them expire within 30 days", tile["detail"])
        self._assert_tile_counts_its_list(tile, self.manager)

    def test_mrr_of_active_subscriptions_and_this_months_churn(self):
        subscriptions = self.env["retention.subscription"].create(
            [
                {
                    "partner_id": partner.id,
                    "date_start": date(2026, 3, 1),
                    "line_ids": [
                        Command.create(
                            {"product_id": self.product.id, "quantity": 1, "price_unit": price}
                        )
                    ],
                }
                for partner, price in zip(self.customers[:3], (30.0, 45.0, 12.0), strict=True)
            ]
        )
        subscriptions.action_activate()
        subscriptions[1].action_pause()
        reason = self.env.ref("retention_loyalty.subscription_close_reason_price")
        subscriptions[2]._close(reason)
        tiles = self._tiles()
        self.assertEqual((tiles["mrr"]["value"], tiles["mrr"]["detail_value"]), (30.0, 1))
        self.assertEqual((tiles["churn"]["value"], tiles["churn"]["detail_value"]), (12.0, 1))
        for key in ("mrr", "churn"):
            self._assert_tile_counts_its_list(tiles[key], self.manager)

    def test_each_user_sees_only_the_figures_they_may_read(self):
        self.assertEqual(
            set(self._tiles()),
            {
                "at_risk",
                "followups",
                "contact_coverage",
                "retained_revenue",
                "points_liability",
                "mrr",
                "churn",
            },
        )
        # A salesperson reads customers, follow-ups and subscriptions, not the
        # administrators' dashboard months or the points liability, whatever the context says.
        salesman_tiles = self._tiles(self.salesman, active_test=False, uid=self.manager.id)
        self.assertEqual(
            set(salesman_tiles), {"at_risk", "followups", "contact_coverage", "mrr", "churn"}
        )
        with self.assertRaises(AccessError):
            self._tiles(self.salesman, allowed_company_ids=[self.other_company.id])
