from odoo import fields, models


class PosOrderLine(models.Model):
    _inherit = "pos.order.line"

    # Indexed: the products bought at the till are read net of their returns,
    # and a refund looks up what the refunded order earned.
    refunded_orderline_id = fields.Many2one(index="btree_not_null")
