from odoo import fields, models
from odoo.tools import SQL


class RetentionModelFitCalibrationChart(models.Model):
    """The calibration table with actual and predicted averages on separate
    rows, so one bar chart shows both side by side per bucket (a graph view
    draws one measure at a time)."""

    _name = "retention.model.fit.calibration.chart"
    _description = "Customer Lifetime Model Calibration Chart"
    _auto = False
    _order = "fit_id, bucket, series"
    _depends = {
        "retention.model.fit.calibration": [
            "fit_id",
            "company_id",
            "bucket",
            "customers",
            "actual_average",
            "predicted_average",
        ],
    }

    fit_id = fields.Many2one("retention.model.fit", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    bucket = fields.Char(string="Repeat Purchases Before the Window", readonly=True)
    series = fields.Selection([("actual", "Actual"), ("predicted", "Predicted")], readonly=True)
    customers = fields.Integer(readonly=True, aggregator="max")
    purchases = fields.Float(
        string="Repeat Purchases in the Window (average)",
        digits=(16, 3),
        readonly=True,
        aggregator="avg",
    )

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT row.id * 2 AS id, row.fit_id, row.company_id, row.bucket,
                   'actual' AS series, row.customers, row.actual_average AS purchases
              FROM retention_model_fit_calibration row
            UNION ALL
            SELECT row.id * 2 + 1, row.fit_id, row.company_id, row.bucket,
                   'predicted', row.customers, row.predicted_average
              FROM retention_model_fit_calibration row
            """
        )
