import unittest
from datetime import date

from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged

from .common import make_points_program, make_product


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' browser step"
)
class TestRewardsTour(HttpCase):
    def test_customer_claims_a_reward_and_joins_a_club(self):
        customer = self.env["res.partner"].create(
            {"name": "Tour Rewards Customer", "email": "tour.rewards@example.com"}
        )
        new_test_user(
            self.env,
            login="rl_tour_rewards",
            name="Tour Rewards Customer",
            groups="base.group_portal",
            partner_id=customer.id,
        )
        program = make_points_program(
            self.env,
            "Tour Rewards Points",
            reward={"discount": 10, "discount_mode": "percent", "required_points": 100},
        )
        program.rule_ids.reward_point_mode = "order"
        self.env["loyalty.reward"].create(
            {
                "program_id": program.id,
                "reward_type": "product",
                "reward_product_id": make_product(self.env, "Tour mug", 9.0).id,
                "required_points": 300,
            }
        )
        card = self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": customer.id}
        )
        self.env["loyalty.card"]._retention_post(
            [
                {
                    "card": card,
                    "kind": "bonus",
                    "points": 180,
                    "description": "Welcome",
                    "date": date(2026, 1, 2),
                }
            ]
        )
        club = self.env["retention.club"].create(
            {
                "name": "Tour Tasting Club",
                "policy": "free",
                "portal_joinable": True,
                "portal_terms": "<p>One email a month.</p>",
            }
        )

        self.start_tour("/my/home", "retention_rewards_tour", login="rl_tour_rewards")

        self.assertEqual(card.points, 80)
        codes = self.env["loyalty.card"].search(
            [("program_id", "=", program.reward_ids[:1].retention_claim_program_id.id)]
        )
        self.assertEqual(len(codes), 1)
        membership = self.env["retention.club.membership"].search(
            [("partner_id", "=", customer.id)]
        )
        self.assertRecordValues(membership, [{"club_id": club.id, "state": "active"}])
