from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import make_survey


@tagged("post_install", "-at_install")
class TestSurveyAnswersThatAreNotDetractors(TransactionCase):
    """The survey goes out on confirmation; only an answer at or below the
    action's detractor limit (6) raises the customer's risk and books a call.
    A passive (7-8) or a promoter (9-10), a skipped question or an answer left
    unfinished changes nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="rl_survey_answer_seller", groups="sales_team.group_sale_salesman"
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Survey answer coffee", "list_price": 20}
        )
        cls.survey, cls.question = make_survey(cls.env, "Would you recommend us?")
        cls.playbook = cls.env["retention.playbook"].create(
            {
                "name": "Recommendation survey",
                "trigger": "order_confirmed",
                "control_percent": 0,
                "action_ids": [Command.create({"kind": "survey", "survey_id": cls.survey.id})],
            }
        )
        cls.Stat = cls.env["retention.customer.stat"]

    def _surveyed_customer(self, name):
        """A customer at medium risk who just confirmed an order, and the
        survey answer the playbook opened for them."""
        customer = self.env["res.partner"].create(
            {"name": name, "email": f"{name.lower()}@example.com", "user_id": self.salesman.id}
        )
        self.Stat.create(
            {"partner_id": customer.id, "company_id": self.env.company.id, "risk_level": "medium"}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )
        order.action_confirm()
        answer = self.env["survey.user_input"].search(
            [("survey_id", "=", self.survey.id), ("partner_id", "=", customer.id)]
        )
        self.assertEqual(len(answer), 1)
        self.assertEqual(answer.retention_playbook_action_id, self.playbook.action_ids)
        return customer, answer

    def _consequences(self, customer):
        stat = self.Stat.search([("partner_id", "=", customer.id)])
        calls = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", customer.id)]
        )
        history = self.env["retention.segment.history"].search([("partner_id", "=", customer.id)])
        return stat.risk_level, calls, history

    @freeze_time("2026-06-01")
    def test_passives_promoters_and_skipped_answers_change_nothing(self):
        for name, score in (("Passive", 7), ("Promoter", 10), ("Skipper", None)):
            with self.subTest(name=name):
                customer, answer = self._surveyed_customer(name)
                if score is None:
                    answer._save_lines(self.question, "")
                    self.assertTrue(answer.user_input_line_ids.skipped)
                else:
                    answer._save_lines(self.question, score)
                answer._mark_done()
                self.assertEqual(answer.state, "done")
                risk, calls, history = self._consequences(customer)
                self.assertEqual(risk, "medium")
                self.assertFalse(calls)
                self.assertFalse(history)

    @freeze_time("2026-06-01")
    def test_an_unfinished_answer_changes_nothing_until_it_is_done(self):
        customer, answer = self._surveyed_customer("Hesitant")
        answer._save_lines(self.question, 2)
        self.assertEqual(self._consequences(customer)[0], "medium")
        self.assertFalse(self._consequences(customer)[1])
        answer._mark_done()
        risk, calls, history = self._consequences(customer)
        self.assertEqual(risk, "high")
        self.assertEqual(calls.user_id, self.salesman)
        self.assertEqual(history.mapped("risk_level"), ["high"])

    @freeze_time("2026-06-01")
    def test_the_limit_itself_is_a_detractor_and_one_above_is_not(self):
        at_limit, at_limit_answer = self._surveyed_customer("Six")
        above, above_answer = self._surveyed_customer("Seven")
        at_limit_answer._save_lines(self.question, 6)
        above_answer._save_lines(self.question, 7)
        (at_limit_answer | above_answer)._mark_done()
        self.assertEqual(self._consequences(at_limit)[0], "high")
        self.assertEqual(len(self._consequences(at_limit)[1]), 1)
        self.assertEqual(self._consequences(above)[0], "medium")
        self.assertFalse(self._consequences(above)[1])
