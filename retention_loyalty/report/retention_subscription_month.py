from odoo import fields, models, tools
from odoo.tools import SQL


class RetentionSubscriptionMonth(models.Model):
    """One row per subscription and month it was running at the end of the
    month (today for the current month): active subscriptions and MRR over
    time. Paused and closed subscriptions bring no MRR, as on the
    subscriptions list, whose Active subscriptions add up to the current
    month: there the subscription's status and MRR decide, in past months its
    latest event by then (paused or closed, or started, resumed, reopened or
    MRR changed: the MRR it recorded) and closing date.

    A row's id is its subscription's id and month, as a bigint (which the ORM
    takes as any id): it stays the same from one query to the next."""

    _name = "retention.subscription.month"
    _description = "Subscriptions by Month"
    _auto = False
    _order = "month desc"

    month = fields.Date(readonly=True)
    subscription_id = fields.Many2one("retention.subscription", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    mrr = fields.Monetary(string="MRR", readonly=True, aggregator="sum")
    interval_unit = fields.Char(readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """CREATE VIEW %s AS (
                    SELECT s.id::bigint * 100000
                             + (extract(year FROM months.month) * 12
                                + extract(month FROM months.month))::int AS id,
                           months.month::date AS month,
                           s.id AS subscription_id,
                           s.company_id, s.partner_id, s.user_id, company.currency_id,
                           CASE WHEN evaluated.day >= CURRENT_DATE THEN s.mrr
                                ELSE COALESCE(latest.mrr_after, s.mrr)
                           END AS mrr,
                           s.interval_unit
                      FROM retention_subscription s
                      JOIN res_company company ON company.id = s.company_id
                     CROSS JOIN LATERAL generate_series(
                           date_trunc('month', s.date_start),
                           date_trunc('month', COALESCE(s.date_closed, CURRENT_DATE)),
                           interval '1 month') AS months(month)
                     CROSS JOIN LATERAL (
                           SELECT LEAST((months.month + interval '1 month - 1 day')::date,
                                        CURRENT_DATE) AS day
                     ) AS evaluated
                      LEFT JOIN LATERAL (
                           SELECT event.kind, event.mrr_after
                             FROM retention_subscription_event event
                            WHERE event.subscription_id = s.id
                              AND event.date <= evaluated.day
                            ORDER BY event.date DESC, event.id DESC
                            LIMIT 1
                     ) AS latest ON TRUE
                     WHERE s.state != 'draft'
                       AND (s.date_closed IS NULL OR s.date_closed > evaluated.day)
                       AND CASE
                           WHEN evaluated.day >= CURRENT_DATE THEN s.state = 'active'
                           ELSE s.date_start <= evaluated.day
                                AND COALESCE(latest.kind, 'start') NOT IN ('pause', 'close')
                       END
                )""",
                SQL.identifier(self._table),
            )
        )
