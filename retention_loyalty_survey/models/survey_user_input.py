from datetime import timedelta

from odoo import fields, models

RISK_UP = {"low": "medium", "medium": "high", "high": "high", "lost": "lost"}


class SurveyUserInput(models.Model):
    _inherit = "survey.user_input"

    retention_playbook_action_id = fields.Many2one(
        "retention.playbook.action", index="btree_not_null", ondelete="set null"
    )

    def _mark_done(self):
        res = super()._mark_done()
        self.filtered("retention_playbook_action_id")._retention_handle_detractors()
        self._retention_grant_survey_bonus()
        return res

    def _retention_grant_survey_bonus(self):
        """Completing a survey earns the survey bonus (test entries and
        anonymous answers earn nothing)."""
        answered = self.sudo().filtered(
            lambda answer: answer.state == "done" and answer.partner_id and not answer.test_entry
        )
        if answered:
            today = fields.Date.context_today(self)
            self.env["loyalty.program"]._retention_grant_bonus(
                "survey", [(partner, today) for partner in answered.partner_id]
            )

    def _retention_detractors(self):
        """Answers with a scale answer at or below their action's detractor limit."""
        return self.filtered(
            lambda answer: any(
                line.question_id.question_type == "scale"
                and not line.skipped
                and line.value_scale <= answer.retention_playbook_action_id.detractor_max
                for line in answer.user_input_line_ids
            )
        )

    def _retention_handle_detractors(self):
        """A detractor's risk goes up one level (until the next nightly
        recomputation judges it again) and their salesperson gets a call."""
        detractors = self._retention_detractors().sudo()
        if not detractors:
            return
        today = fields.Date.context_today(self)
        call = self.env.ref("mail.mail_activity_data_call")
        model_id = self.env["ir.model"]._get_id("res.partner")
        Stat = self.env["retention.customer.stat"].sudo()
        for answer in detractors:
            action = answer.retention_playbook_action_id
            partner = answer.partner_id.commercial_partner_id
            if not partner:
                continue
            stat = Stat.search(
                [("partner_id", "=", partner.id), ("company_id", "=", action.company_id.id)],
                limit=1,
            )
            if stat and RISK_UP[stat.risk_level or "low"] != stat.risk_level:
                old_risk = stat.risk_level
                stat.risk_level = RISK_UP[stat.risk_level or "low"]
                self.env["retention.segment.history"].sudo().create(
                    {
                        "partner_id": partner.id,
                        "company_id": stat.company_id.id,
                        "date": today,
                        "old_value_tier_id": stat.value_tier_id.id,
                        "value_tier_id": stat.value_tier_id.id,
                        "old_risk_level": old_risk,
                        "risk_level": stat.risk_level,
                    }
                )
            assignee = partner.user_id if partner.user_id.active else action.playbook_id.create_uid
            self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(
                {
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "activity_type_id": call.id,
                    "user_id": assignee.id,
                    "date_deadline": today + timedelta(days=1),
                    "summary": self.env._("Detractor: %(survey)s", survey=answer.survey_id.title),
                    "retention_playbook_id": action.playbook_id.id,
                    "retention_value_at_stake": stat.value_at_stake if stat else 0.0,
                }
            )
