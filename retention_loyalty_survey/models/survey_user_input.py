from collections import Counter
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
        recomputation judges it again) and their salesperson gets a call.

        Done for the whole batch: the stats are read at once, and each answer
        steps its customer's level from where the answers before it in the
        batch left it (two answers of one customer: two steps, as if they
        came one after the other)."""
        detractors = self._retention_detractors().sudo().filtered("partner_id")
        if not detractors:
            return
        today = fields.Date.context_today(self)
        call = self.env.ref("mail.mail_activity_data_call")
        model_id = self.env["ir.model"]._get_id("res.partner")
        partners = detractors.partner_id.commercial_partner_id
        companies = detractors.retention_playbook_action_id.company_id
        stats = (
            self.env["retention.customer.stat"]
            .sudo()
            .search([("partner_id", "in", partners.ids), ("company_id", "in", companies.ids)])
        )
        stat_of = {(stat.partner_id.id, stat.company_id.id): stat for stat in stats}
        risk_of = {stat: stat.risk_level for stat in stats}
        history_values, activity_values = [], []
        for answer in detractors:
            action = answer.retention_playbook_action_id
            partner = answer.partner_id.commercial_partner_id
            stat = stat_of.get((partner.id, action.company_id.id))
            if stat:
                old_risk = risk_of[stat]
                new_risk = RISK_UP[old_risk or "low"]
                if new_risk != old_risk:
                    risk_of[stat] = new_risk
                    history_values.append(
                        {
                            "partner_id": partner.id,
                            "company_id": stat.company_id.id,
                            "date": today,
                            "old_value_tier_id": stat.value_tier_id.id,
                            "value_tier_id": stat.value_tier_id.id,
                            "old_risk_level": old_risk,
                            "risk_level": new_risk,
                        }
                    )
            assignee = partner.user_id if partner.user_id.active else action.playbook_id.create_uid
            activity_values.append(
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
        raised = stats.filtered(lambda stat: risk_of[stat] != stat.risk_level)
        for risk in {risk_of[stat] for stat in raised}:
            raised.filtered(lambda stat, risk=risk: risk_of[stat] == risk).risk_level = risk
        if history_values:
            self.env["retention.segment.history"].sudo().create(history_values)
        # Odoo's activity creation subscribes the assignees to the records of
        # the batch and fails on a record listed twice: a customer's second
        # call of the batch goes in a second creation.
        rounds = []
        calls_per_customer = Counter()
        for values in activity_values:
            position = calls_per_customer[values["res_id"]]
            calls_per_customer[values["res_id"]] += 1
            if position == len(rounds):
                rounds.append([])
            rounds[position].append(values)
        Activity = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True)
        for round_values in rounds:
            Activity.create(round_values)
