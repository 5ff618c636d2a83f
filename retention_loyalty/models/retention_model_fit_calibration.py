from odoo import api, fields, models


class RetentionModelFitCalibration(models.Model):
    """One row of a fit's calibration table (Fader, Hardie & Lee 2005): the
    customers with this many repeat purchases before the holdout window (the
    last row: this many or more), and their average actual and predicted
    repeat purchases in the window."""

    _name = "retention.model.fit.calibration"
    _description = "Customer Lifetime Model Calibration"
    _order = "fit_id, repeat_purchases"
    _rec_name = "bucket"

    fit_id = fields.Many2one(
        "retention.model.fit", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="fit_id.company_id", store=True, index=True)
    repeat_purchases = fields.Integer(readonly=True)
    open_ended = fields.Boolean(readonly=True)
    bucket = fields.Char(
        string="Repeat Purchases Before the Window",
        compute="_compute_bucket",
        store=True,
        help="Repeat purchases in the calibration period; 7+ is seven or more.",
    )
    customers = fields.Integer(readonly=True)
    actual_average = fields.Float(
        string="Actual (average)", digits=(16, 3), readonly=True, aggregator="avg"
    )
    predicted_average = fields.Float(
        string="Predicted (average)", digits=(16, 3), readonly=True, aggregator="avg"
    )

    @api.depends("repeat_purchases", "open_ended")
    def _compute_bucket(self):
        for row in self:
            row.bucket = f"{row.repeat_purchases}{'+' if row.open_ended else ''}"
