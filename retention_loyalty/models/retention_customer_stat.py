import io
import json
import logging
import math
import threading
from datetime import date, datetime, time, timedelta

import numpy as np

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date
from odoo.tools.translate import LazyTranslate

from ..engine import customer_scoring, segments
from ..engine.contacts import contacted_within
from .retention_customer_month import CONCURRENCY_ERRORS

# Service failures of the last 90 days raise the risk; an invoice counts once
# it is 15 days overdue. Bridges add late deliveries, returns, unhappy answers.
SERVICE_SIGNAL_DAYS = 90
INVOICE_OVERDUE_SIGNAL_DAYS = 15
SERVICE_SIGNALS = [
    ("invoice_overdue", "Invoice overdue"),
    ("order_cancelled", "Order cancelled"),
    ("quotation_expired", "Quotation expired"),
]

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# Labels of the value figures when the company values customers in margin;
# the fields' own labels say revenue.
MARGIN_LABELS = {
    "revenue_total": _lt("Lifetime Margin"),
    "revenue_12m": _lt("Margin (12 months)"),
    "revenue_share_12m": _lt("Share of Margin (12 months, %)"),
    "average_order_value": _lt("Average Order Margin"),
    "repeat_order_value": _lt("Average Repeat Purchase Margin"),
    "expected_order_value": _lt("Expected Order Margin"),
    "value_if_retained": _lt("Margin If They Stay"),
    "clv": _lt("Predicted Lifetime Value (margin)"),
    "value_at_stake": _lt("Value at Stake (margin)"),
}


def value_labels(env, descriptions, margin_labels):
    """Field descriptions (of ``fields_get``) relabelled for the current
    company's customer value: margin labels when it values customers in
    margin."""
    if env.company.retention_value_basis != "margin":
        return descriptions
    for name, label in margin_labels.items():
        if name in descriptions and "string" in descriptions[name]:
            descriptions[name]["string"] = label._translate(env.lang or "en_US")
    return descriptions


RISK_LEVEL_SELECTION = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("lost", "Lost"),
]
METHOD_SELECTION = [
    ("bgnbd", "Purchase pattern of all customers"),
    ("heuristic", "Own purchase rhythm (too few repeat customers)"),
]


class RetentionCustomerStat(models.Model):
    """Retention figures of one customer (commercial partner) in one company.

    Rows are written in bulk by :meth:`_recompute_company` from set-based SQL
    and the pure-Python engine; nobody edits them by hand."""

    _name = "retention.customer.stat"
    _description = "Customer Retention Statistics"
    _order = "value_at_stake desc, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        related="partner_id.user_id", string="Salesperson", store=True, index=True
    )
    partner_active = fields.Boolean(related="partner_id.active", string="Active Customer")
    first_order_date = fields.Date(readonly=True)
    last_order_date = fields.Date(readonly=True)
    order_count = fields.Integer(string="Orders", readonly=True)
    purchase_day_count = fields.Integer(string="Purchase Days", readonly=True)
    revenue_total = fields.Monetary(string="Lifetime Revenue", readonly=True)
    revenue_12m = fields.Monetary(string="Revenue (12 months)", readonly=True)
    revenue_share_12m = fields.Float(
        string="Share of Revenue (12 months, %)",
        digits=(16, 3),
        compute="_compute_revenue_share_12m",
        help="The customer's share of the company's revenue of the last 12 months.",
    )
    average_order_value = fields.Monetary(readonly=True)
    mean_gap_days = fields.Float(
        string="Average Days Between Orders", digits=(16, 1), readonly=True
    )
    median_gap_days = fields.Float(
        string="Median Days Between Orders", digits=(16, 1), readonly=True
    )
    repeat_order_value = fields.Monetary(
        string="Average Repeat Purchase",
        readonly=True,
        help="Average amount of the purchase days after the first one (order value model input).",
    )
    days_since_last_order = fields.Integer(readonly=True)
    usual_gap_days = fields.Float(
        string="Usual Days Between Orders",
        digits=(16, 0),
        readonly=True,
        help="The customer's median gap between purchase days, with the company's typical "
        "gap counted as one more gap; for one-order customers, the company's typical gap "
        "between a first and a second order.",
    )
    overdue_ratio = fields.Float(
        string="Times the Usual Gap",
        digits=(16, 2),
        readonly=True,
        help="Days since the last order divided by the customer's usual gap between orders.",
    )
    overdue_since = fields.Date(
        readonly=True,
        help="The day the usual gap after the last order ran out, for customers who have "
        "not ordered since.",
    )
    service_signal = fields.Selection(
        SERVICE_SIGNALS,
        string="Service Failure",
        readonly=True,
        help="The latest service failure of the last 90 days (overdue invoice, cancelled order "
        "or expired quotation; late delivery, return or unhappy survey answer with the "
        "bridges): it raises the risk one level.",
    )
    service_signal_date = fields.Date(string="Service Failure On", readonly=True)
    risk_reason = fields.Char(
        string="Why",
        compute="_compute_risk_reason",
        help="What the risk level rests on.",
    )
    p_alive = fields.Float(
        string="P(alive)",
        digits=(16, 4),
        readonly=True,
        help="Probability that the customer still buys from you.",
    )
    expected_orders = fields.Float(
        string="Expected Orders (horizon)", digits=(16, 2), readonly=True
    )
    expected_next_order_date = fields.Date(
        readonly=True,
        help="One usual gap after the last order; empty once that day has passed (see "
        "Overdue Since) and for customers more likely gone than not.",
    )
    expected_order_value = fields.Monetary(readonly=True)
    value_if_retained = fields.Monetary(
        string="Value If They Stay",
        readonly=True,
        help="What the customer brings over the horizon if they keep buying: the predicted "
        "lifetime value plus the value at stake.",
    )
    clv = fields.Monetary(
        string="Predicted Lifetime Value",
        readonly=True,
        help="The value if they stay times P(alive).",
    )
    value_at_stake = fields.Monetary(
        readonly=True,
        help="The value if they stay times the probability that they leave (1 - P(alive)): "
        "with the predicted lifetime value it makes up the value if they stay.",
    )
    method = fields.Selection(
        METHOD_SELECTION,
        string="Scored By",
        readonly=True,
        help="How the chance of buying again was estimated; the statistical details are on "
        "Model Quality (administrators).",
    )
    value_tier_id = fields.Many2one("retention.value.tier", readonly=True, index=True)
    risk_level = fields.Selection(RISK_LEVEL_SELECTION, readonly=True, index=True)
    segment = fields.Char(readonly=True, index=True, help="Value tier and risk level together.")
    computed_on = fields.Date(readonly=True)
    value_basis = fields.Selection(related="company_id.retention_value_basis", string="Value In")
    segment_history_ids = fields.One2many(
        "retention.segment.history", compute="_compute_segment_history_ids"
    )

    _sql_constraints = [
        (
            "partner_company_unique",
            "unique(partner_id, company_id)",
            "A customer has one set of retention figures per company.",
        ),
    ]

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        return value_labels(self.env, super().fields_get(allfields, attributes), MARGIN_LABELS)

    @api.depends("revenue_12m", "company_id")
    def _compute_revenue_share_12m(self):
        totals = dict(
            self.sudo()._read_group(
                [("company_id", "in", self.company_id.ids), ("revenue_12m", ">", 0)],
                ["company_id"],
                ["revenue_12m:sum"],
            )
        )
        for stat in self:
            total = totals.get(stat.company_id, 0.0)
            stat.revenue_share_12m = stat.revenue_12m / total * 100 if total else 0.0

    @api.model
    def _read_group_orderby(self, order, groupby_terms, query):
        # Risk levels in their own order (low to lost), not alphabetically, in
        # every grouped view: the value x risk matrix, lists, graphs.
        if "risk_level" in groupby_terms:
            groupby_terms = dict(
                groupby_terms,
                risk_level=SQL(
                    "array_position(%s::varchar[], %s)",
                    [key for key, _label in RISK_LEVEL_SELECTION],
                    groupby_terms["risk_level"],
                ),
            )
        return super()._read_group_orderby(order, groupby_terms, query)

    @api.depends(
        "last_order_date",
        "days_since_last_order",
        "usual_gap_days",
        "purchase_day_count",
        "overdue_since",
        "expected_next_order_date",
        "computed_on",
        "risk_level",
        "p_alive",
        "service_signal",
        "service_signal_date",
    )
    def _compute_risk_reason(self):
        for stat in self:
            if not stat.last_order_date:
                stat.risk_reason = False
                continue
            days, usual = stat.days_since_last_order, round(stat.usual_gap_days)
            if stat.purchase_day_count > 1:
                reason = self.env._(
                    "%(days)s days since the last order; usually %(usual)s.",
                    days=days,
                    usual=usual,
                )
            else:
                reason = self.env._(
                    "One order, %(days)s days ago; a second order usually follows within "
                    "%(usual)s days.",
                    days=days,
                    usual=usual,
                )
            if stat.overdue_since:
                reason += " " + self.env._(
                    "Overdue since %(date)s.", date=format_date(self.env, stat.overdue_since)
                )
            elif stat.expected_next_order_date and stat.expected_next_order_date <= (
                stat.computed_on or stat.expected_next_order_date
            ):
                reason += " " + self.env._("Due now.")
            elif stat.risk_level != "low":
                reason += " " + self.env._(
                    "Chance of buying again: %(percent)s %%.", percent=round(stat.p_alive * 100)
                )
            if stat.service_signal:
                reason += " " + stat._service_signal_text()
            stat.risk_reason = reason

    def _service_signal_text(self):
        self.ensure_one()
        labels = dict(self._fields["service_signal"]._description_selection(self.env))
        return self.env._(
            "%(failure)s on %(date)s.",
            failure=labels[self.service_signal],
            date=format_date(self.env, self.service_signal_date),
        )

    def _compute_segment_history_ids(self):
        histories = self.env["retention.segment.history"].search(
            [("partner_id", "in", self.partner_id.ids), ("company_id", "in", self.company_id.ids)]
        )
        for stat in self:
            stat.segment_history_ids = histories.filtered(
                lambda h, stat=stat: (
                    h.partner_id == stat.partner_id and h.company_id == stat.company_id
                )
            )

    # ------------------------------------------------------------------ scheduling

    @api.model
    def _cron_recompute(self):
        """Daily update, one company per call (the cron runs again while
        companies are left), each committed on its own. A company whose update
        fails is logged, keeps its figures and is left alone until the next
        day; one whose rows another transaction holds is tried again later."""
        today = fields.Date.context_today(self)
        start_of_today = datetime.combine(today, time.min)
        companies = self.env["res.company"].search([])  # pylint: disable=no-search-all
        due = companies.filtered(
            lambda c: (
                (
                    c.retention_full_run_requested
                    or not c.retention_last_run
                    or c.retention_last_run < start_of_today
                )
                and not (
                    c.retention_stat_failed_on and c.retention_stat_failed_on >= start_of_today
                )
            )
        ).sorted(lambda c: not c.retention_full_run_requested)
        for company in due:
            try:
                with self.env.cr.savepoint():
                    self._recompute_company(company, today=today)
            except CONCURRENCY_ERRORS:
                _logger.info("Customer statistics of %s are busy; tried again later", company.name)
                continue
            except Exception:  # pylint: disable=broad-except
                # One broken company must not hold the others back every night.
                _logger.exception("Customer statistics of %s could not be updated", company.name)
                company.sudo().retention_stat_failed_on = fields.Datetime.now()
            self.env["ir.cron"]._notify_progress(done=1, remaining=len(due) - 1)
            if not getattr(threading.current_thread(), "testing", False):
                # Keep each finished company, as Odoo's batched crons do.
                self.env.cr.commit()  # pylint: disable=invalid-commit
            return
        if due:  # all busy: look again in a while
            self.env.ref("retention_loyalty.ir_cron_retention_recompute")._trigger(
                fields.Datetime.now() + timedelta(minutes=10)
            )
        self.env["ir.cron"]._notify_progress(done=0, remaining=0)

    @api.model
    def _recompute_company(self, company, today=None, full=None):
        """Update the figures of ``company``'s customers; returns how many
        customers were scored.

        A full run reads every customer's history, refits the models and
        places the tier boundaries anew; it runs when asked, when the model is
        older than the refit interval, or when no model exists. Otherwise only
        customers with orders changed since the last run are read again, and
        once a day everyone's figures are re-aged from their stored summary:
        P(alive) and risk move with time alone."""
        today = today or fields.Date.context_today(self)
        company = company.sudo()
        fit = self._current_fit(company)
        tiers = company.env["retention.value.tier"]._ensure_company_tiers(company)
        if full is None:
            full = bool(
                company.retention_full_run_requested
                or not fit
                # Tiers added or removed since the last ranking: rank again.
                or len(fit._tier_thresholds()) != len(tiers) - 1
                or not company.retention_last_refit
                or company.retention_last_refit.date()
                <= today - timedelta(days=company.retention_refit_interval_days)
            )
        reage = full or not company.retention_last_reage or company.retention_last_reage < today
        # Taken before anything is read: whatever this run does not see was
        # written by a transaction this old or younger.
        watermark = self._snapshot_watermark()
        partner_ids = None
        if full:
            # Everyone's history, read once for the fit and the figures.
            summary = self._read_purchase_summary(company, today)
            fit = self._refit(company, today, summary=summary)
        else:
            partner_ids = self._changed_partner_ids(company, today)
            summary = self._read_purchase_summary(company, today, partner_ids=partner_ids)
        if reage and partner_ids is not None:
            stored = self._read_stored_summary(company, today, exclude=partner_ids)
            summary = customer_scoring.PurchaseSummary.concat(summary, stored)
        settings = self._scoring_settings(company)
        result = customer_scoring.score(summary, fit._fitted_model(), settings)
        tier_index = self._assign_tiers(company, summary, result, tiers, fit, full, settings)
        self._write_results(company, today, summary, result, tiers, tier_index)
        self._remove_former_customers(company, summary.partner_ids, among=partner_ids)
        values = {
            "retention_last_run": fields.Datetime.now(),
            "retention_stat_watermark": str(watermark),
            "retention_full_run_requested": False,
            "retention_stat_failed_on": False,
        }
        if reage:
            values["retention_last_reage"] = today
        company.write(values)
        return summary.size

    # ------------------------------------------------------------------ reading

    @api.model
    def _snapshot_watermark(self):
        """The oldest transaction still running when this transaction's
        snapshot was taken (a 64-bit PostgreSQL transaction id). What the
        snapshot does not show was written by that transaction or a younger
        one, whatever the time it started: a changed order is never missed,
        though one may be read twice."""
        return self.env.execute_query(
            SQL("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        )[0][0]

    @api.model
    def _changed_partner_ids(self, company, today):
        """Commercial partners whose orders (or invoices) may have changed
        since the last run read them, and those whose orders left the
        12-month window since; None when everyone must be read."""
        since = company.retention_last_run
        watermark = int(company.retention_stat_watermark or 0)
        # This transaction's id, or the next one to be given out.
        current = self.env.execute_query(
            SQL(
                "SELECT COALESCE(pg_current_xact_id_if_assigned(),"
                " pg_snapshot_xmax(pg_current_snapshot()))::text::bigint"
            )
        )[0][0]
        # No watermark yet, or one from another database cluster (a restored
        # backup: ahead of this one's ids, beyond this transaction's own
        # subtransactions) or from too long ago to compare: read everyone.
        if not since or not watermark or not -(2**20) <= current - watermark < 2**31:
            return None
        changed = set(self._written_partner_ids(company, watermark))
        changed.update(self._leaving_window_partner_ids(company, since.date(), today))
        return sorted(changed)

    @api.model
    def _written_partner_ids(self, company, watermark):
        """Commercial partners with an order (or invoice) whose row was written
        by a transaction at or after ``watermark``. A row carries the id of
        its writer modulo 2**32 (``xmin``); compared the way PostgreSQL
        compares them, younger ids lie less than 2**31 ahead."""
        written = SQL(
            "((document.xmin::text::bigint - %s) & 4294967295) < 2147483648", watermark % 2**32
        )
        queries = self._written_partner_queries(company, written)
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        return [row[0] for row in self.env.execute_query(SQL(" UNION ").join(queries))]

    @api.model
    def _written_partner_queries(self, company, written):
        """Queries of the commercial partners whose purchase documents (rows
        aliased ``document``) match ``written``, one per source of purchases;
        bridge addons add their own sources. Flushes what they read."""
        self.env["sale.order"].flush_model()
        self.env["account.move"].flush_model()
        if company.retention_revenue_source == "invoices":
            return [
                SQL(
                    """
                    SELECT DISTINCT document.commercial_partner_id
                      FROM account_move document
                     WHERE document.company_id = %(company)s
                       AND document.move_type IN ('out_invoice', 'out_refund')
                       AND %(written)s
                    """,
                    company=company.id,
                    written=written,
                )
            ]
        return [
            SQL(
                """
                SELECT DISTINCT partner.commercial_partner_id
                  FROM sale_order document
                  JOIN res_partner partner ON partner.id = document.partner_id
                 WHERE document.company_id = %(company)s
                   AND %(written)s
                """,
                company=company.id,
                written=written,
            )
        ]

    @api.model
    def _leaving_window_partner_ids(self, company, since, today):
        """Customers with an order that left the trailing 12-month window
        between the day ``since`` and ``today``: their revenue changed too."""
        self.env["sale.order"].flush_model()
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        rows = self.env.execute_query(
            SQL(
                """
                WITH purchases AS (%(purchases)s)
                SELECT DISTINCT partner_id FROM purchases
                 WHERE day > %(since)s::date - 365 AND day <= %(today)s::date - 365
                 ORDER BY partner_id
                """,
                purchases=self._purchases_query(company, today, None, with_margin=False),
                since=since,
                today=today,
            )
        )
        return [row[0] for row in rows]

    @api.model
    def _purchases_query(self, company, end, partner_ids, with_margin=None):
        """Dated amounts in company currency with their salesperson, one row per
        source document, counted at the commercial partner. Future-dated
        documents are left out. ``margin`` is the document's margin when the
        company values customers in margin (NULL otherwise, or when the caller
        says it needs none with ``with_margin=False``): bridges add theirs."""
        # The callers run it at once: orders and invoices written earlier in
        # the transaction (amounts are computed on flush) must be in the tables.
        self.env["sale.order"].flush_model()
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        partner_filter = (
            SQL(
                "AND partner.commercial_partner_id IN (SELECT unnest(%s::int[]))",
                [int(pid) for pid in partner_ids],
            )
            if partner_ids is not None
            else SQL()
        )
        if company.retention_revenue_source == "invoices":
            return SQL(
                """
                SELECT partner.commercial_partner_id AS partner_id,
                       move.invoice_date AS day,
                       move.amount_untaxed_signed AS amount,
                       %(margin)s AS margin,
                       move.invoice_user_id AS user_id,
                       move.id AS document_id
                  FROM account_move move
                  JOIN res_partner partner ON partner.id = move.partner_id
                 WHERE move.company_id = %(company)s
                   AND move.move_type IN ('out_invoice', 'out_refund')
                   AND move.state = 'posted'
                   AND move.invoice_date <= %(end)s
                   %(partner_filter)s
                """,
                company=company.id,
                end=end,
                partner_filter=partner_filter,
                margin=self._invoice_margin_sql(company, with_margin),
            )
        if not self._with_margin(company, with_margin):
            margin, margin_join = SQL("NULL::numeric"), SQL()
        else:
            margin = SQL("COALESCE(order_margin.margin, 0.0)")
            lines = self._sale_margin_lines_sql()
            line_margin = self._sale_line_margin_sql(company)
            if partner_ids is None:
                # Everyone: all the company's order lines in one grouped pass.
                margin_join = SQL(
                    """
                    LEFT JOIN (
                        SELECT line.order_id, SUM(%(line_margin)s) AS margin
                          FROM sale_order_line line
                          JOIN sale_order sale ON sale.id = line.order_id
                        %(lines)s
                           AND sale.company_id = %(company)s AND sale.state = 'sale'
                         GROUP BY line.order_id
                    ) order_margin ON order_margin.order_id = sale.id
                    """,
                    line_margin=line_margin,
                    lines=lines,
                    company=company.id,
                )
            else:
                # A few customers: their orders' lines through the index.
                margin_join = SQL(
                    """
                    LEFT JOIN LATERAL (
                        SELECT SUM(%(line_margin)s) AS margin
                          FROM sale_order_line line
                        %(lines)s
                           AND line.order_id = sale.id
                    ) order_margin ON TRUE
                    """,
                    line_margin=line_margin,
                    lines=lines,
                )
        return SQL(
            """
            SELECT partner.commercial_partner_id AS partner_id,
                   sale.date_order::date AS day,
                   sale.amount_untaxed / COALESCE(NULLIF(sale.currency_rate, 0), 1.0) AS amount,
                   %(margin)s AS margin,
                   sale.user_id AS user_id,
                   sale.id AS document_id
              FROM sale_order sale
              JOIN res_partner partner ON partner.id = sale.partner_id
              %(margin_join)s
             WHERE sale.company_id = %(company)s
               AND sale.state = 'sale'
               AND sale.date_order < %(end_exclusive)s
               %(partner_filter)s
            """,
            company=company.id,
            end_exclusive=end + timedelta(days=1),
            partner_filter=partner_filter,
            margin=margin,
            margin_join=margin_join,
        )

    @api.model
    def _purchased_lines_query(self, company, customer_ids=None, date_from=None):
        """Rows of the products bought in ``company``, one per line of a
        confirmed order, reward and note lines left out: order_model,
        order_id, customer_id (commercial partner), date_order, currency_id,
        product_id, quantity (> 0), subtotal (untaxed, in currency_id) and
        subscription (a subscription period's order). Optionally only these
        customers, only from ``date_from``. Bridges add their purchases (PoS
        order lines) in company currency."""
        self.env["sale.order"].flush_model()
        self.env["sale.order.line"].flush_model()
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        return SQL(
            """
            SELECT 'sale.order'::varchar AS order_model, sale.id AS order_id,
                   partner.commercial_partner_id AS customer_id, sale.date_order,
                   sale.currency_id, line.product_id, line.product_uom_qty AS quantity,
                   line.price_subtotal AS subtotal,
                   sale.retention_subscription_id IS NOT NULL AS subscription
              FROM sale_order_line line
              JOIN sale_order sale ON sale.id = line.order_id
              JOIN res_partner partner ON partner.id = sale.partner_id
             WHERE sale.state = 'sale' AND sale.company_id = %s
               AND line.display_type IS NULL AND line.product_id IS NOT NULL
               AND line.reward_id IS NULL AND line.product_uom_qty > 0
               %s
            """,
            company.id,
            self._purchased_lines_filter(SQL("sale.date_order"), customer_ids, date_from),
        )

    @api.model
    def _purchased_lines_filter(self, date_column, customer_ids, date_from):
        """The customer and date conditions of ``_purchased_lines_query``."""
        conditions = []
        if customer_ids is not None:
            conditions.append(
                SQL("AND partner.commercial_partner_id = ANY(%s)", [int(c) for c in customer_ids])
            )
        if date_from:
            conditions.append(SQL("AND %s >= %s", date_column, date_from))
        return SQL(" ").join(conditions)

    @api.model
    def _sale_margin_lines_sql(self):
        """Joins and conditions after ``FROM sale_order_line line`` that give
        ``_sale_line_margin_sql`` its product and units (``sale`` is the
        lines' order, joined by the caller)."""
        return SQL(
            """
                  LEFT JOIN product_product product ON product.id = line.product_id
                  LEFT JOIN product_template template ON template.id = product.product_tmpl_id
                  LEFT JOIN uom_uom product_uom ON product_uom.id = template.uom_id
                  LEFT JOIN uom_uom line_uom ON line_uom.id = line.product_uom
                 WHERE line.display_type IS NULL
                   AND NOT COALESCE(line.is_downpayment, FALSE)
            """
        )

    @api.model
    def _sale_line_margin_sql(self, company=None):
        """Margin of a sale order line (aliases ``line``, ``sale``, ``product``,
        ``template``, ``product_uom``, ``line_uom``) in company currency: its
        untaxed amount less cost x quantity.

        The cost is sale_margin's ``purchase_price`` (order currency) when that
        module is installed, else the product cost we took when the order was
        confirmed (``retention_unit_cost``, company currency), else, for orders
        confirmed before we took it, today's product cost. A line with no cost
        is "margin unknown" unless it is a reward line (its product is a
        discount) or its product is marked free of cost: it counts the
        company's default margin rate of its amount, never all of it.

        Without ``company``, each line follows its order's company (reports
        over several companies)."""
        if company:
            company_key = SQL("%s", str(company.id))
            default_rate = SQL("%s", company.retention_default_margin_rate / 100.0)
        else:
            company_key = SQL("sale.company_id::text")
            default_rate = SQL(
                "(SELECT COALESCE(own.retention_default_margin_rate, 0.0) / 100.0"
                " FROM res_company own WHERE own.id = sale.company_id)"
            )
        rate = SQL("COALESCE(NULLIF(sale.currency_rate, 0), 1.0)")
        amount = SQL("line.price_subtotal / %s", rate)
        if "purchase_price" in self.env["sale.order.line"]._fields:
            self.env["sale.order.line"].flush_model(["purchase_price"])
            unit_cost = SQL("COALESCE(line.purchase_price, 0.0) / %s", rate)
        else:
            unit_cost = SQL(
                """COALESCE(
                       line.retention_unit_cost,
                       COALESCE((product.standard_price ->> %(company)s)::numeric, 0.0)
                           * COALESCE(product_uom.factor, 1.0)
                           / COALESCE(NULLIF(line_uom.factor, 0), 1.0)
                   )""",
                company=company_key,
            )
        return SQL(
            """CASE
                   WHEN %(unit_cost)s <> 0 THEN %(amount)s - %(unit_cost)s * line.product_uom_qty
                   WHEN line.reward_id IS NOT NULL OR template.retention_free_of_cost
                       THEN %(amount)s
                   ELSE %(amount)s * %(default_rate)s
               END""",
            unit_cost=unit_cost,
            amount=amount,
            default_rate=default_rate,
        )

    @api.model
    def _invoice_margin_sql(self, company, with_margin=None):
        """Margin of an invoice (alias ``move``) in company currency, credit
        notes negative: its product lines' amounts less today's product cost x
        quantity (invoices keep no cost of their own). Lines without cost
        follow the rule of order lines; a negative line without cost (a
        discount or reward) is all margin, as it is on the order."""
        if not self._with_margin(company, with_margin):
            return SQL("NULL::numeric")
        self.env["account.move.line"].flush_model()
        unit_cost = SQL(
            """COALESCE((product.standard_price ->> %(company)s)::numeric, 0.0)
                   * COALESCE(product_uom.factor, 1.0)
                   / COALESCE(NULLIF(line_uom.factor, 0), 1.0)""",
            company=str(company.id),
        )
        sign = SQL("CASE WHEN move.move_type = 'out_refund' THEN -1 ELSE 1 END")
        return SQL(
            """COALESCE((
                   SELECT SUM(CASE
                              WHEN %(unit_cost)s <> 0
                                  THEN -line.balance - %(sign)s * %(unit_cost)s * line.quantity
                              WHEN -line.balance * %(sign)s <= 0
                                   OR template.retention_free_of_cost THEN -line.balance
                              ELSE -line.balance * %(default_rate)s
                          END)
                     FROM account_move_line line
                     LEFT JOIN product_product product ON product.id = line.product_id
                     LEFT JOIN product_template template ON template.id = product.product_tmpl_id
                     LEFT JOIN uom_uom product_uom ON product_uom.id = template.uom_id
                     LEFT JOIN uom_uom line_uom ON line_uom.id = line.product_uom_id
                    WHERE line.move_id = move.id AND line.display_type = 'product'
               ), 0.0)""",
            unit_cost=unit_cost,
            sign=sign,
            default_rate=company.retention_default_margin_rate / 100.0,
        )

    @api.model
    def _purchase_value_sql(self, company, with_margin=None):
        """The column of the purchases query customers are valued by."""
        return SQL("margin" if self._with_margin(company, with_margin) else "amount")

    @api.model
    def _with_margin(self, company, with_margin=None):
        """Whether a purchases query computes the margin: when the company
        values customers in margin, unless the caller needs no value."""
        return company.retention_value_basis == "margin" and with_margin is not False

    @api.model
    def _read_purchase_summary(self, company, today, partner_ids=None, end=None, with_margin=None):
        """One row per customer with a purchase up to ``end`` (default today).

        Amounts of a day are summed: several orders on one day are one purchase
        for the models. Days with a zero or negative net amount (free orders,
        refunds) count for revenue but not as purchases."""
        if partner_ids is not None and not partner_ids:
            return customer_scoring.PurchaseSummary.empty(today)
        end = end or today
        self.env["sale.order"].flush_model()
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        query = SQL(
            """
            WITH purchases AS (%(purchases)s),
            days AS (
                SELECT partner_id, day, SUM(amount) AS amount, SUM(%(value)s) AS value,
                       COUNT(*) AS documents
                  FROM purchases
                 GROUP BY partner_id, day
            ),
            flagged AS (
                SELECT partner_id, day, amount, value, documents, amount > 0 AS is_purchase,
                       CASE WHEN amount > 0 THEN
                           day - LAG(day) OVER (PARTITION BY partner_id, amount > 0 ORDER BY day)
                       END AS gap,
                       CASE WHEN amount > 0 THEN
                           ROW_NUMBER() OVER (PARTITION BY partner_id, amount > 0 ORDER BY day)
                       END AS purchase_number
                  FROM days
            )
            SELECT partner_id,
                   MIN(day) FILTER (WHERE is_purchase),
                   MAX(day) FILTER (WHERE is_purchase),
                   COALESCE(SUM(documents) FILTER (WHERE is_purchase), 0),
                   COUNT(*) FILTER (WHERE is_purchase),
                   SUM(value),
                   COALESCE(SUM(value) FILTER (WHERE day > %(year_ago)s), 0),
                   AVG(gap),
                   PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY gap),
                   AVG(value) FILTER (WHERE gap IS NOT NULL),
                   SUM(value) FILTER (WHERE is_purchase)
                       / SUM(documents) FILTER (WHERE is_purchase),
                   MIN(gap) FILTER (WHERE purchase_number = 2)
              FROM flagged
             GROUP BY partner_id
            HAVING COUNT(*) FILTER (WHERE is_purchase) > 0
            """,
            purchases=self._purchases_query(company, end, partner_ids, with_margin=with_margin),
            value=self._purchase_value_sql(company, with_margin=with_margin),
            year_ago=end - timedelta(days=365),
        )
        rows = self.env.execute_query(query)
        return customer_scoring.PurchaseSummary.from_rows(rows, end)

    @api.model
    def _read_stored_summary(self, company, today, exclude=()):
        """The summary of customers whose history did not change, from their
        stored figures: re-aging needs no new read of their orders."""
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT partner_id, first_order_date, last_order_date, order_count,
                       purchase_day_count, revenue_total, revenue_12m, mean_gap_days,
                       median_gap_days, repeat_order_value, average_order_value,
                       NULL::float
                  FROM retention_customer_stat
                 WHERE company_id = %(company)s
                   AND partner_id NOT IN (SELECT unnest(%(exclude)s::int[]))
                """,
                company=company.id,
                exclude=np.asarray(exclude, dtype=np.int64).tolist(),
            )
        )
        return customer_scoring.PurchaseSummary.from_rows(rows, today)

    # ------------------------------------------------------------------ models

    @api.model
    def _scoring_settings(self, company):
        return customer_scoring.ScoringSettings(
            horizon_months=company.retention_clv_horizon_months,
            monthly_discount_rate=company.retention_monthly_discount_rate,
            min_repeat_customers=company.retention_min_repeat_customers,
            risk_thresholds=company._retention_risk_thresholds(),
        )

    @api.model
    def _current_fit(self, company):
        return self.env["retention.model.fit"].search(
            [("company_id", "=", company.id)], order="fit_date desc, id desc", limit=1
        )

    @api.model
    def _refit(self, company, today, summary=None):
        """Fit the models on all customers (``summary``: everyone's, read if
        not given), check them on a holdout window, and store the fit."""
        settings = self._scoring_settings(company)
        if summary is None:
            summary = self._read_purchase_summary(company, today)
        fitted = customer_scoring.fit(summary, settings)
        holdout = self._holdout_check(company, today, settings)
        calibration_rows = holdout.pop("calibration_rows", [])
        vals = {
            "company_id": company.id,
            "method": fitted.method,
            "note": fitted.note,
            "customer_count": summary.size,
            "repeat_customer_count": int((summary.frequency > 0).sum()),
            "typical_gap_days": fitted.typical_gap_days,
            "typical_second_order_gap_days": fitted.second_order_gap_days,
            "holdout_days": company.retention_holdout_days,
            **fitted.parameter_values(),
            **holdout,
        }
        fit = self.env["retention.model.fit"].create(vals)
        self.env["retention.model.fit.calibration"].create(
            [dict(row, fit_id=fit.id) for row in calibration_rows]
        )
        company.retention_last_refit = fields.Datetime.now()
        _logger.info(
            "Retention model for %s: %s on %s customers (%s)",
            company.name,
            fitted.method,
            summary.size,
            fitted.note,
        )
        return fit

    @api.model
    def _holdout_check(self, company, today, settings):
        """Fit on the history before the holdout window, predict the window,
        and compare with the purchases customers made in it."""
        holdout_days = company.retention_holdout_days
        calibration_end = today - timedelta(days=holdout_days)
        # Purchase counts only: no margin needed.
        calibration = self._read_purchase_summary(
            company, today, end=calibration_end, with_margin=False
        )
        if not calibration.size:
            return {}
        actual = self._purchase_days_between(company, calibration_end, today)
        actual_counts = np.array([actual.get(pid, 0) for pid in calibration.partner_ids])
        quality = customer_scoring.holdout_quality(
            calibration, actual_counts, holdout_days, settings
        )
        values = {
            "holdout_customers": quality.customers,
            "holdout_predicted": quality.predicted,
            "holdout_actual": quality.actual,
            "holdout_ratio": quality.ratio,
            "holdout_mae": quality.mean_absolute_error,
            "holdout_correlation": quality.correlation,
        }
        # Undefined figures (no purchase in the window) are left empty.
        values = {key: value for key, value in values.items() if np.isfinite(value)}
        values["calibration_rows"] = [
            {
                "company_id": company.id,
                "repeat_purchases": bucket.repeat_purchases,
                "open_ended": bucket.open_ended,
                "bucket": f"{bucket.repeat_purchases}{'+' if bucket.open_ended else ''}",
                "customers": bucket.customers,
                "actual_average": bucket.actual_average,
                "predicted_average": bucket.predicted_average,
            }
            for bucket in quality.calibration
        ]
        return values

    @api.model
    def _purchase_days_between(self, company, start, end):
        """Purchase days per customer after ``start`` up to ``end``."""
        rows = self.env.execute_query(
            SQL(
                """
                WITH purchases AS (%(purchases)s),
                days AS (
                    SELECT partner_id, day FROM purchases
                     GROUP BY partner_id, day HAVING SUM(amount) > 0
                )
                SELECT partner_id, COUNT(*) FROM days WHERE day > %(start)s GROUP BY partner_id
                """,
                purchases=self._purchases_query(company, end, None, with_margin=False),
                start=start,
            )
        )
        return dict(rows)

    # ------------------------------------------------------------------ tiers and writing

    @api.model
    def _assign_tiers(self, company, summary, result, tiers, fit, full, settings):
        """Tier index per customer. A full run ranks everyone (Pareto on the
        company's chosen value) and remembers where each tier started; other
        runs place customers against those boundaries."""
        values = result.clv if company.retention_tier_basis == "clv" else summary.revenue_12m
        cutoffs = [tier.cutoff_percent / 100.0 for tier in tiers]
        cutoffs[-1] = 1.0  # the last tier takes every remaining customer
        thresholds = fit._tier_thresholds()
        if full:
            tier_index = segments.value_tiers(values, cutoffs)
            thresholds = segments.tier_thresholds(values, tier_index, len(tiers))
            fit.tier_thresholds = json.dumps(dict(enumerate(thresholds)))
            return tier_index
        return segments.tiers_by_threshold(values, [thresholds[i] for i in range(len(tiers) - 1)])

    @api.model
    def _write_results(self, company, today, summary, result, tiers, tier_index):
        """Upsert every customer's row in one statement per batch, then log
        tier and risk changes in the segment history."""
        if not summary.size:
            return
        tier_ids = np.array(tiers.ids)[tier_index]
        partner_ids = summary.partner_ids.tolist()
        signals = self._service_signals(company, partner_ids, today)
        risk_index = segments.raised_by_service_signals(
            result.risk_index, [pid in signals for pid in partner_ids]
        )
        risk_names = np.array([key for key, _label in RISK_LEVEL_SELECTION])[risk_index]
        tier_names = {tier.id: tier.name for tier in tiers}
        risk_labels = dict(RISK_LEVEL_SELECTION)
        segment_names = [
            f"{tier_names[tier_id]} / {risk_labels[risk]}"
            for tier_id, risk in zip(tier_ids.tolist(), risk_names.tolist(), strict=True)
        ]
        old = self._read_segments(company, summary.partner_ids)
        columns = {
            "partner_id": summary.partner_ids,
            "first_order_date": summary.first_dates(),
            "last_order_date": summary.last_dates(),
            "order_count": summary.order_count,
            "purchase_day_count": summary.frequency + 1,
            "revenue_total": summary.revenue_total,
            "revenue_12m": summary.revenue_12m,
            "average_order_value": summary.average_order_value,
            "mean_gap_days": summary.mean_gap_days,
            "median_gap_days": summary.median_gap_days,
            "repeat_order_value": summary.repeat_order_value,
            "days_since_last_order": summary.days_since_last,
            "usual_gap_days": result.usual_gap_days,
            "p_alive": result.p_alive,
            "expected_orders": result.expected_orders,
            "expected_next_order_date": result.next_order_dates(today),
            "overdue_since": result.overdue_since_dates(today),
            "expected_order_value": result.expected_order_value,
            "value_if_retained": result.value_if_retained,
            "clv": result.clv,
            "value_at_stake": result.value_at_stake,
            "overdue_ratio": result.overdue,
            "method": [result.method] * summary.size,
            "value_tier_id": tier_ids,
            "risk_level": risk_names,
            "segment": segment_names,
            "service_signal": [signals.get(pid, (None, None))[0] for pid in partner_ids],
            "service_signal_date": [signals.get(pid, (None, None))[1] for pid in partner_ids],
        }
        self._upsert(company, today, columns)
        self._log_segment_changes(company, today, columns, old)
        self.invalidate_model()
        # The customers' figures read through their partner, new rows included.
        self.env["res.partner"].invalidate_model(
            ["retention_stat_id", "retention_value_tier_id", "retention_risk_level"]
        )

    @api.model
    def _remove_former_customers(self, company, keep, among=None):
        """Rows of customers (among those read again) who no longer have a
        purchase, all their orders cancelled say, go: nothing is left to score."""
        among_filter = (
            SQL("AND partner_id IN (SELECT unnest(%s::int[]))", [int(pid) for pid in among])
            if among is not None
            else SQL()
        )
        self.env.cr.execute(
            SQL(
                """
                DELETE FROM retention_customer_stat
                 WHERE company_id = %s
                   AND partner_id NOT IN (SELECT unnest(%s::int[]))
                   %s
                """,
                company.id,
                keep.tolist(),
                among_filter,
            )
        )
        self.invalidate_model()

    @api.model
    def _read_segments(self, company, partner_ids):
        rows = self.env.execute_query(
            SQL(
                """
                SELECT partner_id, value_tier_id, risk_level, segment
                  FROM retention_customer_stat
                 WHERE company_id = %s AND partner_id IN (SELECT unnest(%s::int[]))
                """,
                company.id,
                partner_ids.tolist(),
            )
        )
        return {row[0]: row[1:] for row in rows}

    @api.model
    def _upsert(self, company, today, columns):
        """Insert or update every row in one statement: the values travel by
        COPY into a temporary table, the cheapest way into PostgreSQL."""
        names = list(columns)
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                CREATE TEMPORARY TABLE retention_stat_upload ON COMMIT DROP AS
                SELECT %(columns)s FROM retention_customer_stat WITH NO DATA
                """,
                columns=SQL(", ").join(SQL.identifier(name) for name in names),
            )
        )
        rows = zip(*(_copy_texts(columns[name]) for name in names), strict=True)
        buffer = io.StringIO("".join("\t".join(row) + "\n" for row in rows))
        # COPY has no SQL() form in Odoo's cursor: use the driver's.
        cr._obj.copy_from(buffer, "retention_stat_upload", columns=names)
        now = fields.Datetime.now()
        cr.execute(
            SQL(
                """
                INSERT INTO retention_customer_stat
                       (%(columns)s, company_id, computed_on,
                        create_uid, create_date, write_uid, write_date)
                SELECT %(columns)s, %(company)s, %(today)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM retention_stat_upload
                ON CONFLICT (partner_id, company_id) DO UPDATE SET
                       %(updates)s, computed_on = EXCLUDED.computed_on,
                       write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                """,
                columns=SQL(", ").join(SQL.identifier(name) for name in names),
                company=company.id,
                today=today,
                uid=self.env.uid,
                now=now,
                updates=SQL(", ").join(
                    SQL("%s = EXCLUDED.%s", SQL.identifier(name), SQL.identifier(name))
                    for name in names
                    if name != "partner_id"
                ),
            )
        )
        cr.execute(SQL("DROP TABLE retention_stat_upload"))
        # The stored salesperson is a related field: fill it for new rows.
        cr.execute(
            SQL(
                """
                UPDATE retention_customer_stat stat
                   SET user_id = partner.user_id
                  FROM res_partner partner
                 WHERE partner.id = stat.partner_id
                   AND stat.company_id = %s
                   AND stat.user_id IS DISTINCT FROM partner.user_id
                """,
                company.id,
            )
        )

    @api.model
    def _log_segment_changes(self, company, today, columns, old):
        """History rows for customers whose tier or risk changed; a
        customer's first figures are no change. Analytics stay in their own
        model, behind its access rules: nothing goes to the customer's chatter,
        which every employee reads."""
        changes = []
        for partner_id, tier_id, risk, segment in zip(
            columns["partner_id"].tolist(),
            columns["value_tier_id"].tolist(),
            columns["risk_level"].tolist(),
            columns["segment"],
            strict=True,
        ):
            previous = old.get(partner_id)
            if previous and (previous[0], previous[1]) != (tier_id, risk):
                changes.append((partner_id, previous, tier_id, risk, segment))
        if not changes:
            return
        signals = {
            partner_id: (kind, day)
            for partner_id, kind, day in zip(
                columns["partner_id"].tolist(),
                columns["service_signal"],
                columns["service_signal_date"],
                strict=True,
            )
            if kind
        }
        labels = dict(self._fields["service_signal"]._description_selection(self.env))
        rank = {key: index for index, (key, _label) in enumerate(RISK_LEVEL_SELECTION)}
        self.env["retention.segment.history"].create(
            [
                {
                    "partner_id": partner_id,
                    "company_id": company.id,
                    "date": today,
                    "old_value_tier_id": previous[0],
                    "old_risk_level": previous[1],
                    "old_segment": previous[2],
                    "value_tier_id": tier_id,
                    "risk_level": risk,
                    "segment": segment,
                    # A risk raised by a service failure says which.
                    "reason": self.env._(
                        "%(failure)s on %(date)s",
                        failure=labels[signals[partner_id][0]],
                        date=format_date(self.env, signals[partner_id][1]),
                    )
                    if partner_id in signals and rank[risk] > rank.get(previous[1], -1)
                    else False,
                }
                for partner_id, previous, tier_id, risk, segment in changes
            ]
        )

    # ------------------------------------------------------------------ service failures

    @api.model
    def _service_signals(self, company, partner_ids, today):
        """{customer id: (kind, day)} of each customer's latest service failure
        of the last SERVICE_SIGNAL_DAYS days, in one query over every source."""
        if not partner_ids:
            return {}
        self.env.flush_all()
        since = today - timedelta(days=SERVICE_SIGNAL_DAYS)
        sources = self._service_signal_queries(company, list(partner_ids), since, today)
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT ON (customer_id) customer_id, kind, day
                     FROM (%s) signals (customer_id, kind, day)
                 ORDER BY customer_id, day DESC, kind""",
                SQL(" UNION ALL ").join(SQL("(%s)", source) for source in sources),
            )
        )
        return {partner_id: (kind, day) for partner_id, kind, day in rows}

    @api.model
    def _service_signal_queries(self, company, partner_ids, since, today):
        """Queries of (customer, kind, day) between ``since`` and ``today``,
        one row per customer at most; bridge addons add their own sources."""
        invoices = SQL(
            """SELECT DISTINCT ON (move.commercial_partner_id)
                      move.commercial_partner_id, 'invoice_overdue', move.invoice_date_due
                 FROM account_move move
                WHERE move.company_id = %(company)s AND move.move_type = 'out_invoice'
                  AND move.state = 'posted' AND move.payment_state IN ('not_paid', 'partial')
                  AND move.invoice_date_due BETWEEN %(since)s AND %(overdue)s
                  AND move.commercial_partner_id = ANY(%(partners)s)
             ORDER BY move.commercial_partner_id, move.invoice_date_due DESC""",
            company=company.id,
            since=since,
            overdue=today - timedelta(days=INVOICE_OVERDUE_SIGNAL_DAYS),
            partners=partner_ids,
        )
        orders = SQL(
            """SELECT DISTINCT ON (customer_id) customer_id, kind, day
                 FROM (
                      SELECT p.commercial_partner_id AS customer_id,
                             'order_cancelled' AS kind, so.retention_cancelled_on AS day
                        FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
                       WHERE so.company_id = %(company)s
                         AND so.retention_cancelled_on BETWEEN %(since)s AND %(today)s
                         AND p.commercial_partner_id = ANY(%(partners)s)
                      UNION ALL
                      SELECT p.commercial_partner_id, 'quotation_expired', so.validity_date + 1
                        FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
                       WHERE so.company_id = %(company)s AND so.state IN ('draft', 'sent')
                         AND so.validity_date BETWEEN %(since)s AND %(yesterday)s
                         AND p.commercial_partner_id = ANY(%(partners)s)
                 ) lost
             ORDER BY customer_id, day DESC""",
            company=company.id,
            since=since,
            today=today,
            yesterday=today - timedelta(days=1),
            partners=partner_ids,
        )
        return [invoices, orders]

    # ------------------------------------------------------------------ contact

    last_contact_date = fields.Date(
        related="partner_id.retention_last_contact_date", string="Last Contact"
    )
    last_contact_label = fields.Char(related="partner_id.retention_last_contact_label")
    contact_cadence_days = fields.Integer(related="value_tier_id.contact_cadence_days")
    contact_due = fields.Boolean(
        compute="_compute_contact_due",
        search="_search_contact_due",
        string="To Contact",
        help="The customer's value tier asks for a contact every N days and the last "
        "contact is older than that.",
    )

    @api.depends_context("company")
    def _compute_contact_due(self):
        due = self._contact_due_ids(self)
        for stat in self:
            stat.contact_due = stat.id in due

    def _search_contact_due(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Search customers to contact with = True or = False."))
        stats = self.search(
            [
                ("company_id", "in", self.env.companies.ids),
                ("value_tier_id.contact_cadence_days", ">", 0),
            ]
        )
        due = self._contact_due_ids(stats)
        return [("id", "in" if (operator == "=") == value else "not in", list(due))]

    @api.model
    def _contact_coverage(self, stats, today=None):
        """{stat id: contacted within its tier's cadence} for the stats whose
        tier has a cadence, in the stats' companies."""
        today = today or fields.Date.context_today(self)
        covered = {}
        with_cadence = stats.filtered(lambda stat: stat.value_tier_id.contact_cadence_days)
        for company in with_cadence.company_id:
            in_company = with_cadence.filtered(
                lambda stat, company=company: stat.company_id == company
            )
            touches = self.env["res.partner"]._retention_last_touches(
                company, in_company.partner_id.ids, until=today
            )
            for stat in in_company:
                touch = touches.get(stat.partner_id.id)
                covered[stat.id] = contacted_within(
                    touch and touch.day, today, stat.value_tier_id.contact_cadence_days
                )
        return covered

    @api.model
    def _contact_due_ids(self, stats):
        return {stat_id for stat_id, ok in self._contact_coverage(stats).items() if not ok}

    # ------------------------------------------------------------------ actions

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_texts(values):
    """Values as text for COPY: NULL for None and NaN, ISO dates, escaped
    strings."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind == "f":
            return ["\\N" if not math.isfinite(v) else repr(v) for v in values.tolist()]
        values = values.tolist()
    return [
        "\\N"
        if value is None or value is False
        else value.isoformat()
        if isinstance(value, date)
        else str(value).translate(_COPY_ESCAPES)
        for value in values
    ]
