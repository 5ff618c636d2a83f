from odoo import api, fields, models
from odoo.tools import SQL


class RetentionCustomerStat(models.Model):
    """An unhappy answer to a retention survey is a service failure."""

    _inherit = "retention.customer.stat"

    service_signal = fields.Selection(
        selection_add=[("detractor", "Unhappy survey answer")],
        ondelete={"detractor": "set null"},
    )

    @api.model
    def _service_signal_queries(self, company, partner_ids, since, today):
        detractors = SQL(
            """SELECT DISTINCT ON (p.commercial_partner_id)
                      p.commercial_partner_id, 'detractor', answer.end_datetime::date
                 FROM survey_user_input answer
                 JOIN retention_playbook_action action
                   ON action.id = answer.retention_playbook_action_id
                 JOIN res_partner p ON p.id = answer.partner_id
                WHERE answer.state = 'done' AND action.company_id = %(company)s
                  AND answer.end_datetime::date BETWEEN %(since)s AND %(today)s
                  AND p.commercial_partner_id = ANY(%(partners)s)
                  AND EXISTS (
                      SELECT 1 FROM survey_user_input_line line
                       WHERE line.user_input_id = answer.id AND NOT line.skipped
                         AND line.answer_type = 'scale'
                         AND line.value_scale <= action.detractor_max
                  )
             ORDER BY p.commercial_partner_id, answer.end_datetime DESC""",
            company=company.id,
            since=since,
            today=today,
            partners=partner_ids,
        )
        return [*super()._service_signal_queries(company, partner_ids, since, today), detractors]
