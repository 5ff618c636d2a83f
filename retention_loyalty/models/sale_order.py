from odoo import api, fields, models

from .retention_customer_stat import RISK_LEVEL_SELECTION


class SaleOrder(models.Model):
    _inherit = "sale.order"

    retention_value_tier_id = fields.Many2one(
        "retention.value.tier", compute="_compute_retention_segment", string="Value Tier"
    )
    retention_risk_level = fields.Selection(
        RISK_LEVEL_SELECTION, compute="_compute_retention_segment", string="Churn Risk"
    )

    @api.depends("partner_id.commercial_partner_id", "company_id")
    def _compute_retention_segment(self):
        """The customer's tier and risk in the order's company, read in one
        search for all orders."""
        stats = self.env["retention.customer.stat"].search(
            [
                ("partner_id", "in", self.partner_id.commercial_partner_id.ids),
                ("company_id", "in", self.company_id.ids),
            ]
        )
        by_key = {(stat.partner_id.id, stat.company_id.id): stat for stat in stats}
        empty = self.env["retention.customer.stat"]
        for order in self:
            stat = by_key.get(
                (order.partner_id.commercial_partner_id.id, order.company_id.id), empty
            )
            order.retention_value_tier_id = stat.value_tier_id
            order.retention_risk_level = stat.risk_level
