import unittest
from datetime import timedelta

from odoo import Command
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' browser step"
)
class TestHomeTour(HttpCase):
    def test_manager_goes_from_home_to_customers_at_risk_and_a_playbooks_effect(self):
        new_test_user(
            self.env, login="rl_home_tour_manager", groups="sales_team.group_sale_manager"
        )
        company = self.env.company
        at_risk, safe = self.env["res.partner"].create(
            [{"name": "Home Tour At Risk"}, {"name": "Home Tour Safe"}]
        )
        Stat = self.env["retention.customer.stat"]
        Stat.search([("company_id", "=", company.id)]).unlink()
        Stat.create(
            [
                {"partner_id": at_risk.id, "company_id": company.id, "risk_level": "high"},
                {"partner_id": safe.id, "company_id": company.id, "risk_level": "low"},
            ]
        )
        call = self.env.ref("mail.mail_activity_data_call")
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Home Tour Call",
                "trigger": "overdue",
                "action_ids": [Command.create({"kind": "activity", "activity_type_id": call.id})],
            }
        )
        ran_on = self.env.cr.now().date() - timedelta(days=90)
        self.env["retention.playbook.run"].create(
            [
                {
                    "playbook_id": playbook.id,
                    "partner_id": at_risk.id,
                    "date": ran_on,
                    "state": "done",
                },
                {
                    "playbook_id": playbook.id,
                    "partner_id": safe.id,
                    "date": ran_on,
                    "state": "control",
                    "in_control": True,
                },
            ]
        )
        self.start_tour(
            "/odoo/action-retention_loyalty.retention_home_action",
            "retention_home_tour",
            login="rl_home_tour_manager",
        )
