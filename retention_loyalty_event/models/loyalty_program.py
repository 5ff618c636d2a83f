from odoo import fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    retention_bonus_event_points = fields.Float(
        string="Event Attended",
        groups="retention_loyalty.group_retention_manager",
        help="Points when the customer's registration to an event is marked attended (not "
        "for the invitation or the registration). 0 gives none.",
    )
