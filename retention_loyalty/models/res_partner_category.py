from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResPartnerCategory(models.Model):
    _inherit = "res.partner.category"

    retention_points_multiplier = fields.Float(
        string="Points Multiplier",
        default=1.0,
        help="Loyalty points earned by customers with this tag are multiplied by this "
        "factor (the highest of a customer's tags counts).",
    )

    @api.constrains("retention_points_multiplier")
    def _check_retention_points_multiplier(self):
        for category in self:
            if category.retention_points_multiplier <= 0:
                raise ValidationError(
                    self.env._(
                        "Tag %(tag)s: a points multiplier must be positive.", tag=category.name
                    )
                )
