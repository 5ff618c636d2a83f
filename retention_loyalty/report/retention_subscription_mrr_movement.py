from odoo import fields, models, tools
from odoo.tools import SQL


class RetentionSubscriptionMrrMovement(models.Model):
    """How each month's MRR came about, per subscription: the change of its
    MRR from the end of the previous month (the MRR of *Subscriptions over
    Time*, 0 when it was not running) to the end of this one, classified as
    new (first MRR ever), expansion, contraction, churned (paused or closed:
    down to 0) or reactivated (resumed or reopened after having brought MRR
    before). Month by month the movements add up to the MRR over time, and
    this month's to the subscriptions list's Active MRR. A change undone
    within the month is no movement."""

    _name = "retention.subscription.mrr.movement"
    _description = "MRR Movements"
    _auto = False
    _order = "month desc"

    month = fields.Date(readonly=True)
    subscription_id = fields.Many2one("retention.subscription", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    kind = fields.Selection(
        [
            ("new", "New"),
            ("expansion", "Expansion"),
            ("contraction", "Contraction"),
            ("churned", "Churned"),
            ("reactivated", "Reactivated"),
        ],
        string="Movement",
        readonly=True,
    )
    amount = fields.Monetary(
        string="MRR Movement",
        readonly=True,
        aggregator="sum",
        help="Up for new, expansion and reactivated MRR; down for contraction and churn.",
    )
    mrr_before = fields.Monetary(string="MRR Month Before", readonly=True, aggregator="sum")
    mrr_after = fields.Monetary(string="MRR Month End", readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """CREATE VIEW %(view)s AS (
                    WITH series AS (
                        SELECT s.id AS subscription_id, months.month::date AS month,
                               COALESCE(running.mrr, 0) AS mrr
                          FROM retention_subscription s
                         CROSS JOIN LATERAL generate_series(
                               date_trunc('month', s.date_start),
                               date_trunc('month', CURRENT_DATE),
                               interval '1 month') AS months(month)
                          LEFT JOIN %(months)s running
                            ON running.subscription_id = s.id
                           AND running.month = months.month::date
                         WHERE s.state != 'draft'
                    ), moves AS (
                        SELECT subscription_id, month, mrr,
                               COALESCE(lag(mrr) OVER ordered, 0) AS mrr_before,
                               COALESCE(max(mrr) OVER (ordered ROWS BETWEEN UNBOUNDED
                                                       PRECEDING AND 1 PRECEDING), 0) AS best
                          FROM series
                        WINDOW ordered AS (PARTITION BY subscription_id ORDER BY month)
                    )
                    SELECT s.id::bigint * 100000
                             + (extract(year FROM moves.month) * 12
                                + extract(month FROM moves.month))::int AS id,
                           moves.month, moves.subscription_id,
                           s.company_id, s.partner_id, s.user_id, company.currency_id,
                           CASE WHEN moves.mrr_before = 0 AND moves.best = 0 THEN 'new'
                                WHEN moves.mrr_before = 0 THEN 'reactivated'
                                WHEN moves.mrr = 0 THEN 'churned'
                                WHEN moves.mrr > moves.mrr_before THEN 'expansion'
                                ELSE 'contraction'
                           END AS kind,
                           moves.mrr - moves.mrr_before AS amount,
                           moves.mrr_before, moves.mrr AS mrr_after
                      FROM moves
                      JOIN retention_subscription s ON s.id = moves.subscription_id
                      JOIN res_company company ON company.id = s.company_id
                     WHERE moves.mrr != moves.mrr_before
                )""",
                view=SQL.identifier(self._table),
                months=SQL.identifier(self.env["retention.subscription.month"]._table),
            )
        )
