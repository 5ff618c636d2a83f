from datetime import date, datetime, time, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, tagged

from .common import make_survey


@tagged("post_install", "-at_install")
class TestSurveyAction(TransactionCase):
    def test_a_detractor_raises_risk_and_gets_a_call(self):
        salesman = self.env["res.users"].create(
            {"name": "Survey Seller", "login": "rl_survey_seller"}
        )
        customer = self.env["res.partner"].create(
            {"name": "Unhappy", "email": "unhappy@example.com", "user_id": salesman.id}
        )
        product = self.env["product.product"].create({"name": "Survey coffee", "list_price": 20})
        for days_ago in (90, 60, 30):
            self.env["sale.order"].create(
                {
                    "partner_id": customer.id,
                    "state": "sale",
                    "date_order": datetime.combine(
                        date(2026, 6, 1) - timedelta(days=days_ago), time(9)
                    ),
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
        self.env["retention.customer.stat"]._recompute_company(
            self.env.company, today=date(2026, 6, 1)
        )
        survey, question = make_survey(self.env, "How likely are you to recommend us?")
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Satisfaction survey",
                "trigger": "order_confirmed",
                "control_percent": 0,
                "action_ids": [Command.create({"kind": "survey", "survey_id": survey.id})],
            }
        )
        with freeze_time("2026-06-01"):
            order = self.env["sale.order"].create(
                {
                    "partner_id": customer.id,
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
            order.action_confirm()
            answer = self.env["survey.user_input"].search([("survey_id", "=", survey.id)])
            self.assertEqual(answer.partner_id, customer)
            self.assertEqual(
                self.env["mail.mail"].search_count(
                    [("model", "=", "survey.user_input"), ("res_id", "=", answer.id)]
                ),
                1,
            )
            stat = self.env["retention.customer.stat"].search(
                [("partner_id", "=", customer.id), ("company_id", "=", self.env.company.id)]
            )
            risk_before = stat.risk_level
            answer._save_lines(question, 3)
            answer._mark_done()
        call = self.env["mail.activity"].search(
            [
                ("res_id", "=", customer.id),
                ("res_model", "=", "res.partner"),
                ("summary", "like", "Detractor"),
            ]
        )
        self.assertEqual(call.user_id, salesman)
        self.assertEqual(call.retention_playbook_id, playbook)
        self.assertNotEqual(stat.risk_level, risk_before)
        self.assertEqual(
            stat.risk_level, {"low": "medium", "medium": "high"}.get(risk_before, risk_before)
        )
