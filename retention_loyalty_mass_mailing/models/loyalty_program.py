from odoo import fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    retention_bonus_newsletter_points = fields.Float(
        string="Newsletter Subscription",
        groups="retention_loyalty.group_retention_manager",
        help="Points when the customer's email is subscribed to a mailing list (matched to "
        "the customer by email). Not for subscriptions a playbook makes. 0 gives none.",
    )
