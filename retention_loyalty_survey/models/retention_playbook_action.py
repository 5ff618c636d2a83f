from odoo import api, fields, models


class RetentionPlaybookAction(models.Model):
    """A playbook action that sends a short survey (a satisfaction question a
    week after an order); a detractor's answer raises their risk and
    schedules a call."""

    _inherit = "retention.playbook.action"

    kind = fields.Selection(
        selection_add=[("survey", "Send a survey")], ondelete={"survey": "cascade"}
    )
    survey_id = fields.Many2one("survey.survey")
    detractor_max = fields.Integer(
        string="Detractor Up To",
        default=6,
        help="An answer to a scale question at or below this value (0-10) marks a detractor.",
    )

    @api.constrains("kind", "survey_id", "detractor_max")
    def _check_survey(self):
        self._check_action()

    def _problem(self):
        if self.kind == "survey":
            if not self.survey_id:
                return self.env._("choose the survey to send.")
            if not 0 <= self.detractor_max <= 10:
                return self.env._("the detractor limit lies between 0 and 10.")
        return super()._problem()

    def _run_survey(self, partners, today, results, notes):
        reachable = partners.filtered("email")
        for partner in partners - reachable:
            notes[partner.id].append(self.env._("No email address: survey not sent."))
        survey = self.survey_id.sudo()
        answers = self.env["survey.user_input"].sudo()
        for partner in reachable:
            answers |= survey._create_answer(
                partner=partner, check_attempts=False, retention_playbook_action_id=self.id
            )
        template = self.env.ref("survey.mail_template_user_input_invite", raise_if_not_found=False)
        if template and answers:
            template.sudo().send_mail_batch(
                answers.ids, email_layout_xmlid="mail.mail_notification_light"
            )
        for partner in reachable:
            results[partner.id]["email_sent"] = True
            notes[partner.id].append(self.env._("Survey %(survey)s sent.", survey=survey.title))
