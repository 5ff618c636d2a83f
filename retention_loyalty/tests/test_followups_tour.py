import unittest
from collections import defaultdict

from odoo import Command
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' browser step"
)
class TestFollowupsTour(HttpCase):
    def test_salesperson_works_through_a_follow_up(self):
        salesman = new_test_user(
            self.env, login="rl_tour_salesman", groups="sales_team.group_sale_salesman"
        )
        customer = self.env["res.partner"].create({"name": "Tour Customer", "user_id": salesman.id})
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Tour playbook",
                "trigger": "overdue",
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
        self.env["retention.customer.stat"].create(
            {"partner_id": customer.id, "company_id": self.env.company.id}
        )
        created = defaultdict(dict)
        playbook.action_ids._run_activity(
            customer, self.env.cr.now().date(), created, defaultdict(list)
        )
        self.assertTrue(created[customer.id]["activity_id"])
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
