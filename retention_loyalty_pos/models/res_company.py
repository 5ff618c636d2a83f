from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    retention_revenue_source = fields.Selection(
        selection_add=[("orders_pos", "Confirmed sales orders and Point of Sale orders")],
        ondelete={"orders_pos": "set default"},
        default="orders_pos",
    )
