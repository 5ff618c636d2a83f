from odoo import fields, models

from .retention_customer_stat import RISK_LEVEL_SELECTION


class RetentionSegmentHistory(models.Model):
    """One row each time a customer's value tier or risk level changes, so
    follow-up rules can react to the move and managers can see the path."""

    _name = "retention.segment.history"
    _description = "Customer Segment Change"
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    user_id = fields.Many2one(related="partner_id.user_id", string="Salesperson")
    date = fields.Date(required=True, index=True)
    old_value_tier_id = fields.Many2one("retention.value.tier", string="Previous Tier")
    value_tier_id = fields.Many2one("retention.value.tier", string="Tier")
    old_risk_level = fields.Selection(RISK_LEVEL_SELECTION, string="Previous Risk")
    risk_level = fields.Selection(RISK_LEVEL_SELECTION, string="Risk")
    old_segment = fields.Char(string="Previous Segment")
    segment = fields.Char()
    reason = fields.Char(help="The service failure that raised the risk, if one did.")
