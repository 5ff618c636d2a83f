from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    retention_free_of_cost = fields.Boolean(
        string="Free of Cost",
        help="This product really costs nothing (a service of your own, say): with no cost "
        "its sales count as all margin. Other products without cost have an unknown margin "
        "and count the company's default margin rate.",
    )
