from odoo import fields, models
from odoo.tools import SQL

ATTENDANCE = [
    ("attended", "Attended"),
    ("no_show", "Registered, did not come"),
    ("not_registered", "Invited, not registered"),
    ("control", "Control group"),
]


class RetentionEventEffect(models.Model):
    """What event invitations achieved, per playbook and group of customers:
    those who attended, those who registered and did not come (no-shows),
    those who never registered, and the control group (not invited). For
    each: how many reordered within the playbook's effect window after the
    invitation (the triggering order excluded) and their revenue, as in the
    playbook effect report.

    A run is measured once its effect window has passed and its playbook's
    events are over: until then, nobody is a no-show yet."""

    _name = "retention.event.effect"
    _description = "Retention Event Invitation Effect"
    _auto = False
    _order = "playbook_id, attendance"
    _depends = {
        "retention.playbook.run": ["playbook_id", "partner_id", "date", "state", "in_control"],
        "retention.playbook": ["company_id", "effect_window_days"],
        "retention.playbook.action": ["playbook_id", "kind", "event_id"],
        "event.registration": ["event_id", "partner_id", "state"],
        "event.event": ["date_end"],
        "res.partner": ["commercial_partner_id"],
        "sale.order": ["partner_id", "state", "company_id", "date_order", "amount_untaxed"],
    }

    playbook_id = fields.Many2one("retention.playbook", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    attendance = fields.Selection(ATTENDANCE, readonly=True)
    customers = fields.Integer(readonly=True)
    reordered = fields.Integer(readonly=True)
    reorder_rate = fields.Float(readonly=True, aggregator="avg")
    revenue = fields.Monetary(readonly=True)
    revenue_per_customer = fields.Monetary(readonly=True, aggregator="avg")

    @property
    def _table_query(self):
        return SQL(
            """
            WITH run AS (
                SELECT run.id, run.playbook_id, run.partner_id, run.date, run.order_id,
                       run.in_control IS TRUE AS in_control,
                       playbook.company_id, playbook.effect_window_days
                  FROM retention_playbook_run run
                  JOIN retention_playbook playbook ON playbook.id = run.playbook_id
                 WHERE run.state != 'failed'
                   AND run.date + playbook.effect_window_days < %(today)s
                   AND EXISTS (SELECT 1 FROM retention_playbook_action action
                                WHERE action.playbook_id = run.playbook_id
                                  AND action.kind = 'event' AND action.event_id IS NOT NULL)
                   AND NOT EXISTS (SELECT 1 FROM retention_playbook_action action
                                     JOIN event_event event ON event.id = action.event_id
                                    WHERE action.playbook_id = run.playbook_id
                                      AND action.kind = 'event'
                                      AND event.date_end >= %(now)s)
            ), presence AS (
                SELECT run.id AS run_id,
                       bool_or(registration.state = 'done') AS attended
                  FROM run
                  JOIN retention_playbook_action action
                    ON action.playbook_id = run.playbook_id AND action.kind = 'event'
                  JOIN event_registration registration
                    ON registration.event_id = action.event_id AND registration.state != 'cancel'
                  JOIN res_partner attendee
                    ON attendee.id = registration.partner_id
                   AND attendee.commercial_partner_id = run.partner_id
              GROUP BY run.id
            ), outcome AS (
                SELECT run.id, run.playbook_id, run.company_id,
                       CASE WHEN run.in_control THEN 'control'
                            WHEN presence.attended THEN 'attended'
                            WHEN presence.run_id IS NOT NULL THEN 'no_show'
                            ELSE 'not_registered' END AS attendance,
                       count(sale.id) > 0 AS reordered,
                       COALESCE(sum(sale.amount_untaxed
                           / COALESCE(NULLIF(sale.currency_rate, 0), 1.0)), 0) AS revenue
                  FROM run
                  LEFT JOIN presence ON presence.run_id = run.id
                  LEFT JOIN res_partner buyer ON buyer.commercial_partner_id = run.partner_id
                  LEFT JOIN sale_order sale
                         ON sale.partner_id = buyer.id
                        AND sale.state = 'sale'
                        AND sale.company_id = run.company_id
                        AND sale.date_order::date >= run.date
                        AND sale.date_order::date <= run.date + run.effect_window_days
                        AND sale.id IS DISTINCT FROM run.order_id
              GROUP BY run.id, run.playbook_id, run.company_id, run.in_control,
                       presence.run_id, presence.attended
            )
            SELECT outcome.playbook_id * 4 + CASE outcome.attendance
                       WHEN 'attended' THEN 0 WHEN 'no_show' THEN 1
                       WHEN 'not_registered' THEN 2 ELSE 3 END AS id,
                   outcome.playbook_id, outcome.company_id, company.currency_id,
                   outcome.attendance,
                   count(*) AS customers,
                   count(*) FILTER (WHERE outcome.reordered) AS reordered,
                   (count(*) FILTER (WHERE outcome.reordered))::float / count(*) AS reorder_rate,
                   sum(outcome.revenue) AS revenue,
                   sum(outcome.revenue) / count(*) AS revenue_per_customer
              FROM outcome
              JOIN res_company company ON company.id = outcome.company_id
          GROUP BY outcome.playbook_id, outcome.company_id, company.currency_id,
                   outcome.attendance
            """,
            today=fields.Date.context_today(self),
            now=fields.Datetime.now(),
        )
