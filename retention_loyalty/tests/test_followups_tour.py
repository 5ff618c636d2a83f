import unittest

from odoo import Command
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' browser step"
)
class TestFollowupsTour(HttpCase):
    def test_salesperson_works_through_a_follow_up(self):
        """A salesperson opens the customer of a follow-up from the list, sees
        why (the note), logs the outcome, schedules the next step and marks
        that one done from the list."""
        salesman = new_test_user(
            self.env,
            login="rl_tour_salesman",
            # Odoo gives new internal users Contact Creation: scheduling an
            # activity on a customer takes it.
            groups="sales_team.group_sale_salesman,base.group_partner_manager",
        )
        customer = self.env["res.partner"].create(
            {
                "name": "Tour Customer Wholesale Coffee Roasters",
                "phone": "+32 2 555 01 01",
                "email": "roasters@example.com",
                "user_id": salesman.id,
            }
        )
        program = self.env["loyalty.program"].create(
            {
                "name": "Tour points",
                "program_type": "loyalty",
                "trigger": "auto",
                "retention_expiry_policy": "earned",
                "retention_expiry_months": 1,
            }
        )
        self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": customer.id, "points": 145}
        )
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Tour playbook",
                "trigger": "points_expiring",
                "trigger_days": 45,
                "control_percent": 0,
                "action_ids": [
                    Command.create(
                        {
                            "kind": "activity",
                            "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                        }
                    )
                ],
            }
        )
        tier_a = self.env["retention.value.tier"]._ensure_company_tiers(self.env.company)[0]
        self.env["retention.customer.stat"].create(
            {
                "partner_id": customer.id,
                "company_id": self.env.company.id,
                "value_tier_id": tier_a.id,
                "risk_level": "high",
                "value_at_stake": 1234.0,
            }
        )
        run = playbook._evaluate(self.env.cr.now().date())
        self.assertEqual(run.partner_id, customer)
        self.assertIn("145 points expire on", str(run.activity_id.note))
        self.start_tour(
            "/odoo/action-retention_loyalty.mail_activity_action_retention_followups",
            "retention_followups_tour",
            login="rl_tour_salesman",
        )
        self.assertFalse(
            self.env["mail.activity"].search(
                [("retention_playbook_id", "=", playbook.id), ("res_id", "=", customer.id)]
            )
        )
        history = "".join(
            self.env["mail.message"]
            .search([("model", "=", "res.partner"), ("res_id", "=", customer.id)])
            .mapped("body")
        )
        self.assertIn("Voicemail; they reorder next week", history)
        self.assertIn("Ordered three bags", history)
        self.assertIn("Call back about the order", history)

    def test_salesperson_sees_their_month_to_date_scorecard(self):
        seller = new_test_user(
            self.env,
            login="rl_tour_seller",
            name="Tour Seller",
            groups="sales_team.group_sale_salesman",
        )
        other = new_test_user(
            self.env, login="rl_tour_other", groups="sales_team.group_sale_salesman"
        )
        self.env["retention.scorecard"]._compute_period(
            self.env.company, "month", self.env.cr.now().date(), users=other
        )
        self.start_tour(
            "/odoo/action-retention_loyalty.retention_scorecard_action",
            "retention_month_to_date_tour",
            login="rl_tour_seller",
        )
        self.assertEqual(
            self.env["retention.scorecard"]
            .search([("user_id", "in", (seller | other).ids)])
            .mapped("state"),
            ["draft", "draft"],
        )
