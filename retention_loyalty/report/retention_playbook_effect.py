from odoo import fields, models, tools
from odoo.tools import SQL


class RetentionPlaybookEffect(models.Model):
    """Per playbook: customers reached and kept in the control group, how many
    of each ordered again within the playbook's effect window after the
    trigger (the triggering order excluded), their revenue in that window,
    and the uplift of the reached over the control group.

    Only runs whose effect window has passed are measured: a run of today
    has had no time to show an effect. Runs still in their window are counted
    apart, and a playbook with no measurable run says "window still open"
    with no rate or uplift (rather than 0 %)."""

    _name = "retention.playbook.effect"
    _description = "Retention Playbook Effect"
    _auto = False
    _order = "status, rate_uplift desc nulls last, playbook_id"
    _depends = {
        "retention.playbook.run": [
            "playbook_id",
            "partner_id",
            "date",
            "state",
            "in_control",
            "order_id",
            "incentive_cost",
        ],
        "retention.playbook": ["company_id", "effect_window_days"],
        "res.partner": ["commercial_partner_id"],
        "sale.order": ["partner_id", "state", "company_id", "date_order", "amount_untaxed"],
    }

    playbook_id = fields.Many2one("retention.playbook", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    status = fields.Selection(
        [
            ("measured", "Measured"),
            ("no_control", "No control group"),
            ("open", "Window still open"),
        ],
        readonly=True,
        help="Measured: some runs' effect windows have passed, for reached customers and the "
        "control group. Window still open: no run can be measured yet. No control group: the "
        "playbook keeps no control group, so there is nothing to compare with.",
    )
    reached = fields.Integer(
        readonly=True, help="Reached customers whose effect window has passed."
    )
    control = fields.Integer(
        readonly=True, help="Control group customers whose effect window has passed."
    )
    in_window = fields.Integer(
        string="Still in Window",
        readonly=True,
        help="Runs (reached and control) whose effect window has not passed yet: not measured.",
    )
    measurable_on = fields.Date(
        string="Next Measurable On",
        readonly=True,
        help="The day the oldest run still in its window can be measured.",
    )
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
        # Earlier versions kept the report in a database view; it is a query now.
        tools.drop_view_if_exists(self.env.cr, self._table)

    @property
    def _table_query(self):
        # Runs are counted whatever became of their follow-up (open, done or
        # cancelled): the control group is compared with everyone the playbook
        # chose, not with those a salesperson happened to call.
        return SQL(
            """
            WITH %(runs_and_outcomes)s, waiting AS (
                SELECT playbook_id, count(*) AS in_window,
                       min(date + effect_window_days) + 1 AS measurable_on
                  FROM run WHERE NOT measured GROUP BY playbook_id
            ), measured AS (
                SELECT playbook_id,
                       count(*) FILTER (WHERE NOT in_control) AS reached,
                       count(*) FILTER (WHERE in_control) AS control,
                       count(*) FILTER (WHERE NOT in_control AND reordered) AS reached_reordered,
                       count(*) FILTER (WHERE in_control AND reordered) AS control_reordered,
                       COALESCE(sum(revenue) FILTER (WHERE NOT in_control), 0)
                           AS reached_revenue,
                       COALESCE(sum(revenue) FILTER (WHERE in_control), 0) AS control_revenue
                  FROM outcome GROUP BY playbook_id
            ), totals AS (
                SELECT COALESCE(measured.playbook_id, waiting.playbook_id) AS playbook_id,
                       COALESCE(measured.reached, 0) AS reached,
                       COALESCE(measured.control, 0) AS control,
                       COALESCE(measured.reached_reordered, 0) AS reached_reordered,
                       COALESCE(measured.control_reordered, 0) AS control_reordered,
                       COALESCE(measured.reached_revenue, 0) AS reached_revenue,
                       COALESCE(measured.control_revenue, 0) AS control_revenue,
                       COALESCE(waiting.in_window, 0) AS in_window,
                       waiting.measurable_on
                  FROM measured FULL JOIN waiting ON waiting.playbook_id = measured.playbook_id
            ), rates AS (
                SELECT totals.*,
                       reached_reordered::float / NULLIF(reached, 0) AS reached_rate,
                       control_reordered::float / NULLIF(control, 0) AS control_rate,
                       reached_revenue / NULLIF(reached, 0) AS reached_revenue_per_customer,
                       control_revenue / NULLIF(control, 0) AS control_revenue_per_customer
                  FROM totals
            )
            SELECT playbook.id AS id, playbook.id AS playbook_id, playbook.company_id,
                   company.currency_id,
                   CASE WHEN rates.reached > 0 AND rates.control > 0 THEN 'measured'
                        WHEN rates.reached + rates.control > 0 THEN 'no_control'
                        ELSE 'open' END AS status,
                   rates.reached, rates.control, rates.in_window, rates.measurable_on,
                   rates.reached_reordered, rates.control_reordered,
                   rates.reached_rate, rates.control_rate,
                   rates.reached_rate - rates.control_rate AS rate_uplift,
                   rates.reached_revenue, rates.control_revenue,
                   rates.reached_revenue_per_customer - rates.control_revenue_per_customer
                       AS revenue_uplift
              FROM rates
              JOIN retention_playbook playbook ON playbook.id = rates.playbook_id
              JOIN res_company company ON company.id = playbook.company_id
            """,
            runs_and_outcomes=self._runs_and_outcomes_sql(),
        )

    def _runs_and_outcomes_sql(self, margin_sql=None):
        """Two common table expressions shared with the Playbook ROI report:
        ``run``, every run that did not fail with its playbook's window and
        whether that window has passed (``measured``), and ``outcome``, one
        row per measured run: whether the customer ordered again within the
        window (the triggering order excluded), the revenue of those orders in
        the company's currency, the run's incentive cost (the larger of the
        face value it handed out and what its incentives have cost so far:
        a percentage voucher used, e-mails and events cost more than their
        face value, an unused voucher or points are a commitment) and,
        with ``margin_sql`` (an expression over the order ``sale``), their
        margin."""
        margin = SQL("0.0")
        if margin_sql is not None:
            margin = SQL("COALESCE(sum(%s), 0)", margin_sql)
        return SQL(
            """
            run AS (
                SELECT run.id, run.playbook_id, run.partner_id, run.date, run.order_id,
                       run.in_control IS TRUE AS in_control,
                       GREATEST(
                           COALESCE(run.incentive_cost, 0),
                           COALESCE((SELECT sum(cost.amount) FROM retention_incentive_cost cost
                                      WHERE cost.playbook_run_id = run.id), 0)
                       ) AS incentive_cost,
                       playbook.company_id, playbook.effect_window_days,
                       run.date + playbook.effect_window_days < %(today)s AS measured
                  FROM retention_playbook_run run
                  JOIN retention_playbook playbook ON playbook.id = run.playbook_id
                 WHERE run.state != 'failed'
            ), outcome AS (
                SELECT run.id AS run_id, run.playbook_id, run.in_control,
                       run.incentive_cost,
                       count(sale.id) > 0 AS reordered,
                       COALESCE(sum(sale.amount_untaxed
                           / COALESCE(NULLIF(sale.currency_rate, 0), 1.0)), 0) AS revenue,
                       %(margin)s AS margin
                  FROM run
                  LEFT JOIN res_partner buyer ON buyer.commercial_partner_id = run.partner_id
                  LEFT JOIN sale_order sale
                         ON sale.partner_id = buyer.id
                        AND sale.state = 'sale'
                        AND sale.company_id = run.company_id
                        AND sale.date_order::date >= run.date
                        AND sale.date_order::date <= run.date + run.effect_window_days
                        AND sale.id IS DISTINCT FROM run.order_id
                 WHERE run.measured
              GROUP BY run.id, run.playbook_id, run.in_control, run.incentive_cost
            )
            """,
            today=fields.Date.context_today(self),
            margin=margin,
        )
