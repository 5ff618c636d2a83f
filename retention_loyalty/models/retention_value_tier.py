from odoo import api, fields, models
from odoo.exceptions import ValidationError

# name, cumulative share, colour, contact cadence in days (0: none), key accounts
DEFAULT_TIERS = (("A", 80.0, 10, 30, True), ("B", 95.0, 3, 90, False), ("C", 100.0, 1, 0, False))


class RetentionValueTier(models.Model):
    """A value tier of a company (A, B, C...): the customers who, ranked from
    the most valuable down, bring the company's value up to ``cutoff_percent``."""

    _name = "retention.value.tier"
    _description = "Customer Value Tier"
    _order = "company_id, cutoff_percent, id"

    name = fields.Char(required=True, translate=True)
    cutoff_percent = fields.Float(
        string="Cumulative Share (%)",
        required=True,
        help="Customers ranked from the most valuable down belong to this tier until "
        "their cumulative share of the value reaches this percentage. The tier with "
        "the highest share takes every remaining customer.",
    )
    color = fields.Integer()
    key_accounts = fields.Boolean(
        help="The customers of this tier are key accounts: a warning when they are known "
        "through a single contact person.",
    )
    contact_cadence_days = fields.Integer(
        string="Contact Every (Days)",
        help="Contact plan of the tier: each customer should be touched (order, call, "
        "meeting, e-mail, message, event) at least this often. 0: no plan.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    customer_count = fields.Integer(compute="_compute_customer_count")

    _sql_constraints = [
        (
            "cutoff_unique",
            "unique(company_id, cutoff_percent)",
            "Two value tiers of a company cannot end at the same cumulative share.",
        ),
        (
            "cutoff_range",
            "CHECK(cutoff_percent > 0 AND cutoff_percent <= 100)",
            "A tier's cumulative share must be above 0 % and at most 100 %.",
        ),
        (
            "contact_cadence_positive",
            "CHECK(contact_cadence_days >= 0)",
            "A contact cadence cannot be negative.",
        ),
    ]

    @api.constrains("cutoff_percent", "company_id")
    def _check_cutoff_percent(self):
        for tier in self:
            if not 0 < tier.cutoff_percent <= 100:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: the cumulative share must be above 0 %% and at most "
                        "100 %%.",
                        tier=tier.name,
                    )
                )

    def _compute_customer_count(self):
        counts = dict(
            self.env["retention.customer.stat"]._read_group(
                [("value_tier_id", "in", self.ids)], ["value_tier_id"], ["__count"]
            )
        )
        for tier in self:
            tier.customer_count = counts.get(tier, 0)

    @api.model
    def _ensure_company_tiers(self, company):
        """The company's tiers, ordered best first; A/B/C at 80/95/100 % when the
        company has none yet."""
        tiers = self.search([("company_id", "=", company.id)])
        if not tiers:
            tiers = self.create(
                [
                    {
                        "name": name,
                        "cutoff_percent": cutoff,
                        "color": color,
                        "contact_cadence_days": cadence,
                        "key_accounts": key_accounts,
                        "company_id": company.id,
                    }
                    for name, cutoff, color, cadence, key_accounts in DEFAULT_TIERS
                ]
            )
        return tiers.sorted("cutoff_percent")

    def action_view_customers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_customer_stat_action"
        )
        action["domain"] = [("value_tier_id", "=", self.id)]
        action["context"] = {}  # all the tier's customers, not only the user's
        return action
