import math

import numpy as np

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import roi

VERDICTS = [
    (roi.PAYS_OFF, "Pays off"),
    (roi.COSTS_MORE, "Costs more than it brings"),
    (roi.NOT_ENOUGH_DATA, "Not enough data yet"),
    (roi.TOO_FEW, "Too few customers to compare"),
    (roi.NO_CONTROL, "No control group"),
]


class RetentionPlaybookRoi(models.Model):
    """Per playbook, over the runs whose effect window has passed (the runs of
    the Playbook Effect report): reached customers against the control group,
    reorder rate, revenue and margin per customer, their differences with 95 %
    confidence intervals, the incentive cost per reached customer and the net
    return (margin difference minus that cost), with a plain verdict.

    The group sums come from one query; the intervals and the verdict from the
    engine (``engine/roi.py``), for all records read at once."""

    _name = "retention.playbook.roi"
    _description = "Retention Playbook ROI"
    _auto = False
    _order = "net_return desc nulls last, playbook_id"
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
        "retention.playbook": ["company_id", "effect_window_days", "control_percent"],
        "res.partner": ["commercial_partner_id"],
        "sale.order": ["partner_id", "state", "company_id", "date_order", "amount_untaxed"],
        "sale.order.line": ["order_id", "price_subtotal", "product_id", "product_uom_qty"],
    }

    playbook_id = fields.Many2one("retention.playbook", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    effect_window_days = fields.Integer(string="Effect Window (days)", readonly=True)
    has_control = fields.Boolean(string="Control Group", readonly=True)
    reached = fields.Integer(readonly=True, help="Reached customers whose window has passed.")
    control = fields.Integer(readonly=True, help="Control customers whose window has passed.")
    reached_reordered = fields.Integer(readonly=True)
    control_reordered = fields.Integer(readonly=True)
    reached_revenue_mean = fields.Monetary(string="Revenue per Reached", readonly=True)
    control_revenue_mean = fields.Monetary(string="Revenue per Control", readonly=True)
    reached_revenue_var = fields.Float(readonly=True)
    control_revenue_var = fields.Float(readonly=True)
    reached_margin_mean = fields.Monetary(string="Margin per Reached", readonly=True)
    control_margin_mean = fields.Monetary(string="Margin per Control", readonly=True)
    reached_margin_var = fields.Float(readonly=True)
    control_margin_var = fields.Float(readonly=True)
    reached_net_var = fields.Float(readonly=True)
    cost_per_reached = fields.Monetary(
        string="Incentive Cost per Reached",
        readonly=True,
        help="Incentive cost the runs handed out (vouchers, points), per reached customer.",
    )
    net_return = fields.Monetary(
        string="Net Return per Reached",
        readonly=True,
        help="Margin per reached customer minus margin per control customer, minus the "
        "incentive cost per reached customer.",
    )

    verdict = fields.Selection(VERDICTS, compute="_compute_confidence")
    verdict_text = fields.Char(string="Verdict Explained", compute="_compute_confidence")
    customers_needed = fields.Integer(
        compute="_compute_confidence",
        help="About how many more customers (reached and control, in today's proportion) "
        "would show the observed net return with 95 % confidence and 80 % power.",
    )
    reached_rate = fields.Float(string="Reorder Rate (Reached)", compute="_compute_confidence")
    control_rate = fields.Float(string="Reorder Rate (Control)", compute="_compute_confidence")
    rate_difference = fields.Float(string="Reorder Uplift", compute="_compute_confidence")
    rate_low = fields.Float(string="Reorder Uplift (low)", compute="_compute_confidence")
    rate_high = fields.Float(string="Reorder Uplift (high)", compute="_compute_confidence")
    revenue_difference = fields.Monetary(
        string="Revenue Uplift per Customer", compute="_compute_confidence"
    )
    revenue_low = fields.Monetary(string="Revenue Uplift (low)", compute="_compute_confidence")
    revenue_high = fields.Monetary(string="Revenue Uplift (high)", compute="_compute_confidence")
    margin_difference = fields.Monetary(
        string="Margin Uplift per Customer", compute="_compute_confidence"
    )
    margin_low = fields.Monetary(string="Margin Uplift (low)", compute="_compute_confidence")
    margin_high = fields.Monetary(string="Margin Uplift (high)", compute="_compute_confidence")
    net_low = fields.Monetary(string="Net Return (low)", compute="_compute_confidence")
    net_high = fields.Monetary(string="Net Return (high)", compute="_compute_confidence")

    @property
    def _table_query(self):
        # Margin before incentives: reward lines are left out, since what the
        # run handed out is counted once, as its incentive cost.
        Stat = self.env["retention.customer.stat"]
        order_margin = SQL(
            """
            (SELECT COALESCE(sum(%(line_margin)s), 0)
               FROM sale_order_line line
               %(lines)s
                AND line.order_id = sale.id AND line.product_id IS NOT NULL
                AND line.reward_id IS NULL)
            """,
            line_margin=Stat._sale_line_margin_sql(),
            lines=Stat._sale_margin_lines_sql(),
        )
        runs_and_outcomes = self.env["retention.playbook.effect"]._runs_and_outcomes_sql(
            margin_sql=order_margin
        )
        return SQL(
            """
            WITH %(runs_and_outcomes)s, groups AS (
                SELECT playbook_id, in_control,
                       count(*) AS customers,
                       count(*) FILTER (WHERE reordered) AS reordered,
                       avg(revenue) AS revenue_mean, var_samp(revenue) AS revenue_var,
                       avg(margin) AS margin_mean, var_samp(margin) AS margin_var,
                       avg(margin - incentive_cost) AS net_mean,
                       var_samp(margin - incentive_cost) AS net_var,
                       avg(incentive_cost) AS cost_mean
                  FROM outcome GROUP BY playbook_id, in_control
            )
            SELECT playbook.id AS id, playbook.id AS playbook_id, playbook.company_id,
                   company.currency_id, playbook.effect_window_days,
                   playbook.control_percent > 0 OR control.customers > 0 AS has_control,
                   COALESCE(reached.customers, 0) AS reached,
                   COALESCE(control.customers, 0) AS control,
                   COALESCE(reached.reordered, 0) AS reached_reordered,
                   COALESCE(control.reordered, 0) AS control_reordered,
                   reached.revenue_mean AS reached_revenue_mean,
                   control.revenue_mean AS control_revenue_mean,
                   reached.revenue_var AS reached_revenue_var,
                   control.revenue_var AS control_revenue_var,
                   reached.margin_mean AS reached_margin_mean,
                   control.margin_mean AS control_margin_mean,
                   reached.margin_var AS reached_margin_var,
                   control.margin_var AS control_margin_var,
                   reached.net_var AS reached_net_var,
                   reached.cost_mean AS cost_per_reached,
                   CASE WHEN reached.customers >= 2 AND control.customers >= 2
                        THEN reached.net_mean - control.margin_mean END AS net_return
              FROM retention_playbook playbook
              JOIN res_company company ON company.id = playbook.company_id
              LEFT JOIN groups reached
                     ON reached.playbook_id = playbook.id AND NOT reached.in_control
              LEFT JOIN groups control
                     ON control.playbook_id = playbook.id AND control.in_control
             WHERE reached.customers > 0 OR control.customers > 0
            """,
            runs_and_outcomes=runs_and_outcomes,
        )

    def search_fetch(self, domain, field_names, offset=0, limit=None, order=None):
        # The intervals need every group summary: fetch them with the search
        # rather than in a second run of the report's query.
        summaries = [name for name, field in self._fields.items() if field.store]
        field_names = list(field_names) + [name for name in summaries if name not in field_names]
        return super().search_fetch(domain, field_names, offset=offset, limit=limit, order=order)

    def _group_stats(self, prefix):
        def column(name):
            return np.array(
                [
                    value if value is not None and value is not False else np.nan
                    for value in self.mapped(f"{prefix}_{name}")
                ],
                dtype=float,
            )

        # A control customer gets no incentive: its net value is its margin.
        net_var = column("net_var") if prefix == "reached" else column("margin_var")
        cost = (
            np.array(self.mapped("cost_per_reached"), dtype=float)
            if prefix == "reached"
            else np.zeros(len(self))
        )
        margin_mean = column("margin_mean")
        return roi.GroupStats(
            customers=np.array(self.mapped(prefix), dtype=float),
            reordered=np.array(self.mapped(f"{prefix}_reordered"), dtype=float),
            revenue_mean=column("revenue_mean"),
            revenue_var=column("revenue_var"),
            margin_mean=margin_mean,
            margin_var=column("margin_var"),
            net_mean=margin_mean - cost,
            net_var=net_var,
            cost_mean=cost,
        )

    @api.depends("reached", "control", "has_control")
    def _compute_confidence(self):
        if not self:
            return
        result = roi.playbook_roi(
            self._group_stats("reached"),
            self._group_stats("control"),
            np.array(self.mapped("has_control"), dtype=bool),
        )

        def number(values, index):
            value = float(values[index])
            return value if math.isfinite(value) else False

        for index, record in enumerate(self):
            needed = number(result.customers_needed, index)
            record.verdict = result.verdict[index]
            record.customers_needed = math.ceil(needed) if needed is not False else 0
            record.verdict_text = record._verdict_text()
            record.reached_rate = number(result.reached_rate, index)
            record.control_rate = number(result.control_rate, index)
            for name in ("rate", "revenue", "margin"):
                record[f"{name}_difference"] = number(getattr(result, f"{name}_difference"), index)
                record[f"{name}_low"] = number(getattr(result, f"{name}_low"), index)
                record[f"{name}_high"] = number(getattr(result, f"{name}_high"), index)
            record.net_low = number(result.net_low, index)
            record.net_high = number(result.net_high, index)

    def _verdict_text(self):
        self.ensure_one()
        if self.verdict == roi.PAYS_OFF:
            return self.env._(
                "Pays off: with 95 % confidence each reached customer brings more margin "
                "than the incentive costs."
            )
        if self.verdict == roi.COSTS_MORE:
            return self.env._(
                "Costs more than it brings: with 95 % confidence the incentive costs more "
                "than the extra margin of a reached customer."
            )
        if self.verdict == roi.NOT_ENOUGH_DATA:
            if self.customers_needed:
                return self.env._(
                    "Not enough data yet (needs about %(count)s more customers).",
                    count=self.customers_needed,
                )
            return self.env._(
                "Not enough data yet: reached and control customers bring the same so far."
            )
        if self.verdict == roi.NO_CONTROL:
            return self.env._(
                "No ROI: the playbook keeps no control group, so there is nothing to "
                "compare the reached customers with. Set a control group to measure it."
            )
        return self.env._(
            "No ROI yet: it needs at least 2 reached and 2 control customers whose effect "
            "window has passed (now %(reached)s reached, %(control)s in the control group).",
            reached=self.reached,
            control=self.control,
        )
