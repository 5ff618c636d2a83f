from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .retention_customer_stat import RISK_LEVEL_SELECTION


class RetentionPointsCampaign(models.Model):
    """A bonus campaign: orders in a date range earn more loyalty points
    (e.g. double points the week before a holiday), optionally only on some
    product categories or for some customer segments."""

    _name = "retention.points.campaign"
    _description = "Bonus Points Campaign"
    _inherit = ["mail.thread"]
    _order = "date_from desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    program_id = fields.Many2one(
        "loyalty.program",
        string="Loyalty Program",
        required=True,
        check_company=True,
        domain="[('program_type', '=', 'loyalty')]",
        tracking=True,
    )
    date_from = fields.Date(string="From", required=True, tracking=True)
    date_to = fields.Date(string="To", required=True, tracking=True)
    multiplier = fields.Float(default=2.0, required=True, tracking=True)
    product_category_ids = fields.Many2many(
        "product.category",
        string="Product Categories",
        help="Only the part of the order on these categories earns the bonus; empty means all.",
    )
    value_tier_ids = fields.Many2many(
        "retention.value.tier",
        string="Value Tiers",
        check_company=True,
        help="Only customers in these value tiers; empty means all.",
    )
    risk_level = fields.Selection(
        RISK_LEVEL_SELECTION,
        help="Only customers at this churn risk level; empty means all.",
    )

    @api.constrains("date_from", "date_to", "multiplier")
    def _check_campaign(self):
        for campaign in self:
            if campaign.date_to < campaign.date_from:
                raise ValidationError(
                    self.env._("Campaign %(name)s ends before it starts.", name=campaign.name)
                )
            if campaign.multiplier <= 1:
                raise ValidationError(
                    self.env._(
                        "Campaign %(name)s: the multiplier must be above 1 to give a bonus.",
                        name=campaign.name,
                    )
                )

    @api.model
    def _retention_applicable(self, order, program):
        """``(name, multiplier, eligible share)`` of the campaigns that apply
        to ``order`` for ``program``, on the day the order is (or would be,
        if confirmed now) confirmed. ``order`` is a sales order, or any order
        with ``_retention_points_datetime`` and ``_retention_campaign_share``
        (a PoS order)."""
        day = fields.Date.context_today(self, order._retention_points_datetime())
        campaigns = self.sudo().search(
            [
                ("program_id", "=", program.id),
                ("company_id", "=", order.company_id.id),
                ("date_from", "<=", day),
                ("date_to", ">=", day),
            ]
        )
        if not campaigns:
            return []
        stat = (
            self.env["retention.customer.stat"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", order.partner_id.commercial_partner_id.id),
                    ("company_id", "=", order.company_id.id),
                ],
                limit=1,
            )
        )
        applicable = []
        for campaign in campaigns:
            if campaign.value_tier_ids and stat.value_tier_id not in campaign.value_tier_ids:
                continue
            if campaign.risk_level and stat.risk_level != campaign.risk_level:
                continue
            share = order._retention_campaign_share(campaign.product_category_ids)
            if share > 0:
                applicable.append((campaign.name, campaign.multiplier, share))
        return applicable
