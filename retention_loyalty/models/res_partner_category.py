from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResPartnerCategory(models.Model):
    _inherit = "res.partner.category"

    # Hands out points: set by retention administrators, company by company.
    retention_points_multiplier = fields.Float(
        string="Points Multiplier",
        company_dependent=True,
        default=1.0,
        groups="retention_loyalty.group_retention_manager",
        help="Loyalty points earned in the current company by customers with this tag are "
        "multiplied by this factor (the highest of a customer's tags counts).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        # Odoo checks the groups of a field on write, not on create.
        if any("retention_points_multiplier" in vals for vals in vals_list) or (
            "default_retention_points_multiplier" in self.env.context
        ):
            self.check_field_access_rights("create", ["retention_points_multiplier"])
        return super().create(vals_list)

    @api.constrains("retention_points_multiplier")
    def _check_retention_points_multiplier(self):
        for category in self:
            if category.retention_points_multiplier <= 0:
                raise ValidationError(
                    self.env._(
                        "Tag %(tag)s: a points multiplier must be positive.", tag=category.name
                    )
                )
