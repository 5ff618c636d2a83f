from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

from odoo.addons.retention_loyalty.tests.bonus_common import (
    BonusRaceMixin,
    bonus_entries,
    make_bonus_program,
)

from .common import make_survey


@tagged("post_install", "-at_install")
class TestSurveyBonus(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = make_bonus_program(cls.env, "Survey Club", survey=25)
        cls.survey, cls.question = make_survey(cls.env, "Tell us")
        cls.customer = cls.env["res.partner"].create(
            {"name": "Answerer", "email": "answerer@example.com"}
        )

    def _answer(self, score, partner=None, **values):
        answer = self.survey._create_answer(
            partner=partner or self.customer, check_attempts=False, **values
        )
        answer._save_lines(self.question, score)
        return answer

    def test_a_completed_survey_gives_the_bonus_once_per_year(self):
        with freeze_time("2026-06-30"):
            answer = self._answer(8)
            # Started is not answered.
            self.assertFalse(bonus_entries(self.env, self.customer, "survey"))
            answer._mark_done()
            [entry] = bonus_entries(self.env, self.customer, "survey")
            self.assertEqual((entry.points, entry.bonus_period), (25.0, "2026"))
            self._answer(9)._mark_done()
            self.assertEqual(len(bonus_entries(self.env, self.customer, "survey")), 1)
        with freeze_time("2027-01-05"):
            self._answer(10)._mark_done()
        self.assertEqual(
            bonus_entries(self.env, self.customer, "survey").mapped("bonus_period"),
            ["2026", "2027"],
        )

    def test_test_entries_and_anonymous_answers_give_nothing(self):
        with freeze_time("2026-06-30"):
            self._answer(5, test_entry=True)._mark_done()
            anonymous = self.survey._create_answer(
                user=self.env.ref("base.public_user"), check_attempts=False
            )
            anonymous._mark_done()
        self.assertFalse(
            self.env["retention.points.entry"].search([("bonus_source", "=", "survey")])
        )


@tagged("post_install", "-at_install")
class TestSurveyBonusRace(BonusRaceMixin, TransactionCase):
    """Two workers complete two surveys of the same customer at once."""

    bonus_source = "survey"

    def _set_up_committed(self, env):
        survey, _question = make_survey(env, "Race survey")
        partner = env["res.partner"].browse(self.partner_id)
        self.survey_id = survey.id
        self.answer_ids = [
            survey._create_answer(partner=partner, check_attempts=False).id for _worker in "ab"
        ]

    def _remove_committed(self, env):
        env["survey.user_input"].browse(self.answer_ids).unlink()
        env["survey.survey"].browse(self.survey_id).unlink()

    def _give(self, env, worker):
        env["survey.user_input"].browse(self.answer_ids[worker == "b"])._mark_done()
