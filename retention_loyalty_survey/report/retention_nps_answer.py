from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.retention_loyalty.engine.nps import nps_by_group

NPS_CATEGORIES = [
    ("promoter", "Promoter (9-10)"),
    ("passive", "Passive (7-8)"),
    ("detractor", "Detractor (0-6)"),
]


class RetentionNpsAnswer(models.Model):
    """One 0-10 answer to a playbook's survey, for the Net Promoter Score:
    the share of promoters (9-10) minus the share of detractors (0-6). Its
    ``nps`` is +100, 0 or -100, so that its average over any group (month,
    value tier, salesperson) is that group's score; ``_nps_by`` computes the
    same with the engine from grouped counts.

    The value tier and the salesperson are the customer's current ones."""

    _name = "retention.nps.answer"
    _description = "Net Promoter Score Answer"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "partner_id"
    _depends = {
        "survey.user_input": [
            "state",
            "end_datetime",
            "partner_id",
            "test_entry",
            "retention_playbook_action_id",
        ],
        "survey.user_input.line": [
            "user_input_id",
            "question_id",
            "answer_type",
            "value_scale",
            "skipped",
        ],
        "survey.question": ["scale_min", "scale_max"],
        "retention.playbook.action": ["company_id"],
        "retention.customer.stat": ["partner_id", "company_id", "value_tier_id"],
        "res.partner": ["commercial_partner_id", "user_id"],
    }

    date = fields.Date(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    value_tier_id = fields.Many2one("retention.value.tier", readonly=True)
    survey_id = fields.Many2one("survey.survey", readonly=True)
    playbook_id = fields.Many2one("retention.playbook", readonly=True)
    score = fields.Integer(string="Answer (0-10)", readonly=True, aggregator="avg")
    category = fields.Selection(NPS_CATEGORIES, readonly=True)
    promoter = fields.Integer(string="Promoters", readonly=True)
    passive = fields.Integer(string="Passives", readonly=True)
    detractor = fields.Integer(string="Detractors", readonly=True)
    nps = fields.Float(string="NPS", readonly=True, aggregator="avg", digits=(16, 1))

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT line.id, answer.end_datetime::date AS date,
                   customer.id AS partner_id, action.company_id,
                   customer.user_id, stat.value_tier_id, answer.survey_id,
                   action.playbook_id, line.value_scale AS score,
                   CASE WHEN line.value_scale >= 9 THEN 'promoter'
                        WHEN line.value_scale <= 6 THEN 'detractor'
                        ELSE 'passive' END AS category,
                   (line.value_scale >= 9)::int AS promoter,
                   (line.value_scale BETWEEN 7 AND 8)::int AS passive,
                   (line.value_scale <= 6)::int AS detractor,
                   CASE WHEN line.value_scale >= 9 THEN 100.0
                        WHEN line.value_scale <= 6 THEN -100.0
                        ELSE 0.0 END AS nps
              FROM survey_user_input_line line
              JOIN survey_user_input answer ON answer.id = line.user_input_id
              JOIN survey_question question ON question.id = line.question_id
              JOIN retention_playbook_action action
                ON action.id = answer.retention_playbook_action_id
              JOIN res_partner contact ON contact.id = answer.partner_id
              JOIN res_partner customer ON customer.id = contact.commercial_partner_id
              LEFT JOIN retention_customer_stat stat
                ON stat.partner_id = customer.id AND stat.company_id = action.company_id
             WHERE answer.state = 'done' AND answer.test_entry IS NOT TRUE
               AND line.answer_type = 'scale' AND line.skipped IS NOT TRUE
               AND question.scale_min = 0 AND question.scale_max = 10
            """
        )

    @api.model
    def _nps_by(self, domain, groupby=()):
        """``{group values: NetPromoterScore}`` of the answers in ``domain``
        grouped by ``groupby`` (fields of this report, e.g. "date:month",
        "user_id"): one grouped count, the score by the engine. Without
        groupby the key is ()."""
        groupby = list(groupby)
        rows = self._read_group(domain, [*groupby, "category"], ["__count"])
        return nps_by_group(
            (tuple(row[: len(groupby)]), row[len(groupby)], row[-1]) for row in rows
        )
