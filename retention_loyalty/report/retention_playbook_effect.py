from odoo import fields, models, tools
from odoo.tools import SQL


class RetentionPlaybookEffect(models.Model):
    """Per playbook: customers reached and kept in the control group, how many
    of each ordered again within the playbook's effect window after the
    trigger (the triggering order excluded), their revenue in that window,
    and the uplift of the reached over the control group."""

    _name = "retention.playbook.effect"
    _description = "Retention Playbook Effect"
    _auto = False
    _order = "rate_uplift desc"

    playbook_id = fields.Many2one("retention.playbook", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    reached = fields.Integer(readonly=True)
    control = fields.Integer(readonly=True)
    reached_reordered = fields.Integer(string="Reached Who Reordered", readonly=True)
    control_reordered = fields.Integer(string="Control Who Reordered", readonly=True)
    reached_rate = fields.Float(string="Reorder Rate (Reached)", readonly=True, aggregator="avg")
    control_rate = fields.Float(string="Reorder Rate (Control)", readonly=True, aggregator="avg")
    rate_uplift = fields.Float(string="Reorder Uplift", readonly=True, aggregator="avg")
    reached_revenue = fields.Monetary(string="Revenue (Reached)", readonly=True)
    control_revenue = fields.Monetary(string="Revenue (Control)", readonly=True)
    revenue_uplift = fields.Monetary(
        string="Revenue Uplift per Customer", readonly=True, aggregator="avg"
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """CREATE VIEW %s AS (
                    WITH outcome AS (
                        SELECT run.playbook_id, run.in_control,
                               count(sale.id) > 0 AS reordered,
                               COALESCE(sum(sale.amount_untaxed
                                   / COALESCE(NULLIF(sale.currency_rate, 0), 1.0)), 0) AS revenue
                          FROM retention_playbook_run run
                          JOIN retention_playbook playbook ON playbook.id = run.playbook_id
                          LEFT JOIN res_partner buyer
                                 ON buyer.commercial_partner_id = run.partner_id
                          LEFT JOIN sale_order sale
                                 ON sale.partner_id = buyer.id
                                AND sale.state = 'sale'
                                AND sale.company_id = playbook.company_id
                                AND sale.date_order::date >= run.date
                                AND sale.date_order::date <= run.date + playbook.effect_window_days
                                AND sale.id IS DISTINCT FROM run.order_id
                         WHERE run.state IN ('done', 'control')
                      GROUP BY run.id, run.playbook_id, run.in_control
                    ), totals AS (
                        SELECT playbook_id,
                               count(*) FILTER (WHERE in_control IS NOT TRUE) AS reached,
                               count(*) FILTER (WHERE in_control IS TRUE) AS control,
                               count(*) FILTER (WHERE in_control IS NOT TRUE AND reordered)
                                   AS reached_reordered,
                               count(*) FILTER (WHERE in_control IS TRUE AND reordered)
                                   AS control_reordered,
                               COALESCE(sum(revenue) FILTER (WHERE in_control IS NOT TRUE), 0)
                                   AS reached_revenue,
                               COALESCE(sum(revenue) FILTER (WHERE in_control IS TRUE), 0)
                                   AS control_revenue
                          FROM outcome GROUP BY playbook_id
                    )
                    SELECT playbook.id AS id, playbook.id AS playbook_id, playbook.company_id,
                           company.currency_id,
                           totals.reached, totals.control,
                           totals.reached_reordered, totals.control_reordered,
                           totals.reached_reordered::float / NULLIF(totals.reached, 0)
                               AS reached_rate,
                           totals.control_reordered::float / NULLIF(totals.control, 0)
                               AS control_rate,
                           totals.reached_reordered::float / NULLIF(totals.reached, 0)
                             - totals.control_reordered::float / NULLIF(totals.control, 0)
                               AS rate_uplift,
                           totals.reached_revenue, totals.control_revenue,
                           totals.reached_revenue / NULLIF(totals.reached, 0)
                             - totals.control_revenue / NULLIF(totals.control, 0) AS revenue_uplift
                      FROM totals
                      JOIN retention_playbook playbook ON playbook.id = totals.playbook_id
                      JOIN res_company company ON company.id = playbook.company_id
                )""",
                SQL.identifier(self._table),
            )
        )
