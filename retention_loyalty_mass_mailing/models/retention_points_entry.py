from odoo import fields, models


class RetentionPointsEntry(models.Model):
    _inherit = "retention.points.entry"

    bonus_source = fields.Selection(
        selection_add=[("newsletter", "Newsletter Subscription")],
        ondelete={"newsletter": "set null"},
    )
