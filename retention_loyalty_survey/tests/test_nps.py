from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import make_survey


@tagged("post_install", "-at_install")
class TestNetPromoterScore(TransactionCase):
    """Seven answers over two months, three salespeople (one is nobody) and
    two value tiers; every score below is counted by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.seller_1, cls.seller_2 = (
            new_test_user(cls.env, login=login, groups="sales_team.group_sale_salesman")
            for login in ("rl_nps_seller_1", "rl_nps_seller_2")
        )
        cls.survey, cls.question = make_survey(cls.env, "Would you recommend us?")
        cls.playbook = cls.env["retention.playbook"].create(
            {
                "name": "NPS survey",
                "trigger": "order_confirmed",
                "control_percent": 0,
                "action_ids": [Command.create({"kind": "survey", "survey_id": cls.survey.id})],
            }
        )
        cls.action = cls.playbook.action_ids
        cls.tier_a, cls.tier_b = cls.env["retention.value.tier"].create(
            [
                {"name": "NPS A", "cutoff_percent": 41.0},
                {"name": "NPS B", "cutoff_percent": 83.0},
            ]
        )
        cls.customers = {}
        for name, seller, tier in (
            ("c1", cls.seller_1, cls.tier_a),
            ("c2", cls.seller_1, cls.tier_b),
            ("c3", cls.seller_2, cls.tier_a),
            ("c4", None, None),
        ):
            partner = cls.env["res.partner"].create(
                {"name": f"NPS {name}", "user_id": seller.id if seller else False}
            )
            cls.customers[name] = partner
            if tier:
                cls.env["retention.customer.stat"].create(
                    {
                        "partner_id": partner.id,
                        "company_id": cls.env.company.id,
                        "value_tier_id": tier.id,
                    }
                )
        # A contact answers for their company: it counts for the company.
        cls.c1_contact = cls.env["res.partner"].create(
            {"name": "NPS c1 buyer", "parent_id": cls.customers["c1"].id}
        )
        for day, name, score in (
            ("2026-05-03", "c1 contact", 10),
            ("2026-05-10", "c2", 9),
            ("2026-05-20", "c3", 3),
            ("2026-05-31", "c4", 7),
            ("2026-06-01", "c1", 6),
            ("2026-06-15", "c2", 8),
            ("2026-06-30", "c3", 10),
        ):
            partner = cls.c1_contact if name == "c1 contact" else cls.customers[name]
            with freeze_time(day):
                cls._answer(partner, score)._mark_done()
        with freeze_time("2026-06-10"):
            # Not counted: a test entry, an answer outside the playbooks, an unfinished one.
            cls._answer(cls.customers["c4"], 0, test_entry=True)._mark_done()
            other_survey, other_question = make_survey(cls.env, "Other survey")
            outside = other_survey._create_answer(partner=cls.customers["c4"], check_attempts=False)
            outside._save_lines(other_question, 0)
            outside._mark_done()
            cls._answer(cls.customers["c4"], 0)

    @classmethod
    def _answer(cls, partner, score, **values):
        answer = cls.survey._create_answer(
            partner=partner,
            check_attempts=False,
            retention_playbook_action_id=cls.action.id,
            **values,
        )
        answer._save_lines(cls.question, score)
        return answer

    def _scores(self, groupby, domain=(), user=None):
        Answer = self.env["retention.nps.answer"]
        if user:
            Answer = Answer.with_user(user)
        return {
            key: round(nps.score, 2) for key, nps in Answer._nps_by(list(domain), groupby).items()
        }

    def test_nps_per_month(self):
        # May: promoters 10, 9; passive 7; detractor 3 -> (2 - 1) / 4 = +25.
        # June: promoter 10; passive 8; detractor 6 -> (1 - 1) / 3 = 0.
        self.assertEqual(
            self._scores(["date:month"]), {(date(2026, 5, 1),): 25.0, (date(2026, 6, 1),): 0.0}
        )
        # The pivot's measure (the average of +100 / 0 / -100) agrees.
        rows = self.env["retention.nps.answer"]._read_group(
            [], ["date:month"], ["nps:avg", "__count"]
        )
        self.assertEqual(
            [(month, round(nps, 2), count) for month, nps, count in rows],
            [(date(2026, 5, 1), 25.0, 4), (date(2026, 6, 1), 0.0, 3)],
        )

    def test_nps_per_salesperson_tier_and_month(self):
        # Seller 1: c1 10, 6 and c2 9, 8 -> (2 - 1) / 4 = +25; seller 2: c3 3, 10 -> 0;
        # nobody: c4 7 -> 0.
        self.assertEqual(
            self._scores(["user_id"]),
            {(self.seller_1,): 25.0, (self.seller_2,): 0.0, (self.env["res.users"],): 0.0},
        )
        # Tier A: c1 10, 6 and c3 3, 10 -> (2 - 2) / 4 = 0; tier B: c2 9, 8 -> +50.
        self.assertEqual(
            self._scores(["value_tier_id"]),
            {
                (self.tier_a,): 0.0,
                (self.tier_b,): 50.0,
                (self.env["retention.value.tier"],): 0.0,
            },
        )
        may, june = date(2026, 5, 1), date(2026, 6, 1)
        by_month_seller = self._scores(["date:month", "user_id"])
        self.assertEqual(by_month_seller[(may, self.seller_1)], 100.0)  # 10, 9
        self.assertEqual(by_month_seller[(may, self.seller_2)], -100.0)  # 3
        self.assertEqual(by_month_seller[(june, self.seller_1)], -50.0)  # 6, 8
        self.assertEqual(by_month_seller[(june, self.seller_2)], 100.0)  # 10
        [c1_may] = self.env["retention.nps.answer"].search(
            [("partner_id", "=", self.customers["c1"].id), ("date", "<", june)]
        )
        self.assertEqual((c1_may.score, c1_may.category, c1_may.nps), (10, "promoter", 100.0))

    @freeze_time("2026-06-30")
    def test_home_tile_for_administrators_and_salespeople(self):
        manager = new_test_user(
            self.env, login="rl_nps_manager", groups="retention_loyalty.group_retention_manager"
        )
        tiles = {
            t["key"]: t
            for t in self.env["retention.dashboard"].with_user(manager).get_tiles()["tiles"]
        }
        # All seven: promoters 10, 9, 10; passives 7, 8; detractors 3, 6 -> (3 - 2) / 7.
        self.assertAlmostEqual(tiles["nps"]["value"], 100.0 / 7, places=6)
        self.assertEqual(tiles["nps"]["detail_value"], 7)
        self.assertEqual(
            self.env["retention.nps.answer"].search_count(tiles["nps"]["action"]["domain"]), 7
        )
        # Seller 1 sees their customers and those without a salesperson:
        # c1 10, 6; c2 9, 8; c4 7 -> (2 - 1) / 5 = +20.
        dashboard = self.env["retention.dashboard"].with_user(self.seller_1)
        seller_tile = {t["key"]: t for t in dashboard.get_tiles()["tiles"]}["nps"]
        self.assertEqual((seller_tile["value"], seller_tile["detail_value"]), (20.0, 5))
        # A year later the answers are too old: no tile.
        with freeze_time("2027-06-30"):
            self.assertNotIn(
                "nps",
                {
                    t["key"]
                    for t in self.env["retention.dashboard"].with_user(manager).get_tiles()["tiles"]
                },
            )
