from odoo import fields, models


class RetentionScorecardLine(models.Model):
    """One customer behind a scorecard's figures."""

    _name = "retention.scorecard.line"
    _description = "Salesperson Retention Scorecard Line"
    _order = "scorecard_id, revenue desc, id"
    _rec_name = "partner_id"

    scorecard_id = fields.Many2one(
        "retention.scorecard", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="scorecard_id.company_id", store=True)
    currency_id = fields.Many2one(related="scorecard_id.currency_id")
    user_id = fields.Many2one(related="scorecard_id.user_id", store=True, string="Salesperson")
    date_start = fields.Date(related="scorecard_id.date_start", store=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, ondelete="cascade"
    )
    revenue = fields.Monetary(string="Order Revenue", readonly=True)
    revenue_previous = fields.Monetary(
        string="Previous Period Revenue",
        readonly=True,
        help="The customer's revenue in the previous period, all salespeople.",
    )
    retained_revenue = fields.Monetary(readonly=True)
    expansion_revenue = fields.Monetary(readonly=True)
    reactivated = fields.Boolean(readonly=True)
    churned = fields.Boolean(readonly=True)
    high_value_churn = fields.Boolean(string="High-Value Churn", readonly=True)
    revenue_lost = fields.Monetary(readonly=True)
