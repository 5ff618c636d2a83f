from odoo import fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    retention_bonus_survey_points = fields.Float(
        string="Survey Answered",
        groups="retention_loyalty.group_retention_manager",
        help="Points when the customer completes a survey (any survey, test entries "
        "excepted). 0 gives none.",
    )
