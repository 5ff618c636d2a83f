from odoo import api, fields, models

from ..engine.customer_movement import month_start
from ..engine.dates import add_months
from ..models.retention_scorecard import PERIOD_SELECTION


class RetentionScorecardComputeWizard(models.TransientModel):
    """Compute the salesperson scorecards of one period."""

    _name = "retention.scorecard.compute.wizard"
    _description = "Compute Retention Scorecards"

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda s: s.env.company,
        domain=lambda s: [("id", "in", s.env.companies.ids)],
    )
    period_kind = fields.Selection(
        PERIOD_SELECTION,
        string="Period",
        required=True,
        default="month",
    )
    date = fields.Date(
        string="Any Day of the Period",
        required=True,
        default=lambda s: add_months(month_start(fields.Date.context_today(s)), -1),
    )
    date_start = fields.Date(string="From", compute="_compute_bounds")
    date_end = fields.Date(string="To", compute="_compute_bounds")

    @api.depends("period_kind", "date")
    def _compute_bounds(self):
        for wizard in self:
            if wizard.period_kind and wizard.date:
                bounds = self.env["retention.scorecard"]._period_bounds(
                    wizard.period_kind, wizard.date
                )
                wizard.date_start, wizard.date_end = bounds
            else:
                wizard.date_start = wizard.date_end = False

    def action_compute(self):
        self.ensure_one()
        cards = self.env["retention.scorecard"]._compute_period(
            self.company_id, self.period_kind, self.date
        )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_scorecard_action"
        )
        action["domain"] = [("id", "in", cards.ids)]
        action["context"] = {}
        return action
