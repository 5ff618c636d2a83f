import json

from odoo import fields, models

from ..engine import bgnbd, customer_scoring, gamma_gamma


class RetentionModelFit(models.Model):
    """The customer-lifetime model fitted for a company at one date: its
    parameters, which method ran and why, and how well it predicted a holdout
    window, so a manager can judge whether to trust the scores."""

    _name = "retention.model.fit"
    _description = "Customer Lifetime Model Fit"
    _order = "fit_date desc, id desc"
    _rec_name = "fit_date"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    fit_date = fields.Datetime(required=True, default=fields.Datetime.now)
    method = fields.Selection(
        [("bgnbd", "BG/NBD and Gamma-Gamma"), ("heuristic", "Purchase rhythm (fallback)")],
        required=True,
    )
    note = fields.Text(help="Why this method ran, and warnings about the data.")
    customer_count = fields.Integer(string="Customers")
    repeat_customer_count = fields.Integer(string="Repeat Customers")
    # Full precision: a rounded parameter could become 0.
    # Parameters keep full precision: rounded, a small one could become 0.
    bgnbd_r = fields.Float(string="r")
    bgnbd_alpha = fields.Float(string="alpha")
    bgnbd_a = fields.Float(string="a")
    bgnbd_b = fields.Float(string="b")
    bgnbd_log_likelihood = fields.Float(string="Log-likelihood", digits=(16, 3))
    gamma_p = fields.Float(string="p")
    gamma_q = fields.Float(string="q")
    gamma_v = fields.Float(string="v")
    typical_gap_days = fields.Float(
        string="Typical Days Between Orders",
        help="Median of the repeat customers' median gaps; each customer's usual gap counts "
        "it as one more gap.",
    )
    typical_second_order_gap_days = fields.Float(
        string="Typical Days to a Second Order",
        help="Median days from the first to the second purchase of repeat customers; "
        "one-order customers are measured against it.",
    )
    holdout_days = fields.Integer("Holdout Window (days)")
    holdout_customers = fields.Integer()
    holdout_predicted = fields.Float(string="Predicted Repeat Purchases", digits=(16, 1))
    holdout_actual = fields.Float(string="Actual Repeat Purchases", digits=(16, 1))
    holdout_ratio = fields.Float(
        string="Predicted / Actual",
        digits=(16, 3),
        help="1.0 is perfect; above 1 the model expects more purchases than customers made.",
    )
    holdout_mae = fields.Float(
        string="Mean Absolute Error per Customer",
        digits=(16, 3),
        help="Average difference, per customer, between predicted and actual purchases "
        "in the holdout window.",
    )
    holdout_correlation = fields.Float(
        string="Correlation per Customer",
        digits=(16, 3),
        help="Correlation, over the customers, of the predicted and the actual repeat purchases "
        "in the holdout window: 1 is a perfect ranking, 0 no relation.",
    )
    calibration_ids = fields.One2many(
        "retention.model.fit.calibration",
        "fit_id",
        help="Customers grouped by their repeat purchases before the holdout window: average "
        "actual against predicted repeat purchases in the window (Fader, Hardie & Lee 2005).",
    )
    tier_thresholds = fields.Text(
        help="Value at which each tier started at the last full run (JSON), used to place "
        "customers whose figures change between full runs."
    )

    def action_view_calibration_chart(self):
        """Actual against predicted purchases per calibration bucket, as bars."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_model_fit_calibration_chart_action"
        )
        action["domain"] = [("fit_id", "=", self.id)]
        return action

    def _tier_thresholds(self):
        self.ensure_one()
        return {int(key): value for key, value in json.loads(self.tier_thresholds or "{}").items()}

    def _fitted_model(self):
        """The engine's view of this fit."""
        self.ensure_one()
        bgnbd_params = gamma_params = None
        if self.method == "bgnbd":
            bgnbd_params = bgnbd.BgNbdParams(
                self.bgnbd_r,
                self.bgnbd_alpha,
                self.bgnbd_a,
                self.bgnbd_b,
                log_likelihood=self.bgnbd_log_likelihood,
            )
            gamma_params = gamma_gamma.GammaGammaParams(self.gamma_p, self.gamma_q, self.gamma_v)
        return customer_scoring.FittedModel(
            method=self.method,
            note=self.note or "",
            typical_gap_days=self.typical_gap_days or customer_scoring.DEFAULT_TYPICAL_GAP_DAYS,
            typical_second_order_gap_days=self.typical_second_order_gap_days or None,
            bgnbd_params=bgnbd_params,
            gamma_params=gamma_params,
        )
