from odoo import fields, models


class RetentionPointsEntry(models.Model):
    _inherit = "retention.points.entry"

    pos_order_id = fields.Many2one(
        "pos.order", string="PoS Order", index="btree_not_null", ondelete="set null"
    )
