from odoo import fields, models


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
    # Stored as given (the fit's company) rather than related: the rows are
    # written with the fit, in one insert.
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    repeat_purchases = fields.Integer(readonly=True)
    open_ended = fields.Boolean(readonly=True)
    bucket = fields.Char(
        string="Repeat Purchases Before the Window",
        readonly=True,
        help="Repeat purchases in the calibration period; 7+ is seven or more.",
    )
    customers = fields.Integer(readonly=True)
    actual_average = fields.Float(
        string="Actual (average)", digits=(16, 3), readonly=True, aggregator="avg"
    )
    predicted_average = fields.Float(
        string="Predicted (average)", digits=(16, 3), readonly=True, aggregator="avg"
    )
