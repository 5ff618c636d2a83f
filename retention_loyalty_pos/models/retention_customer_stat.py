from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL

# Point of Sale orders that are sales: paid, posted with their session, or invoiced.
SOLD_STATES = ("paid", "done", "invoiced")


class RetentionCustomerStat(models.Model):
    """Point of Sale orders are purchases, refunds (orders of negative
    amounts) net off revenue, where the company counts them."""

    _inherit = "retention.customer.stat"

    @api.model
    def _purchases_query(self, company, end, partner_ids, with_margin=None):
        purchases = super()._purchases_query(company, end, partner_ids, with_margin=with_margin)
        if company.retention_revenue_source != "orders_pos":
            return purchases
        self.env["pos.order"].flush_model()
        partner_filter = (
            SQL(
                "AND partner.commercial_partner_id IN (SELECT unnest(%s::int[]))",
                [int(pid) for pid in partner_ids],
            )
            if partner_ids is not None
            else SQL()
        )
        # Untaxed, in company currency (the rate is the company's currency to
        # the order's). Orders without a customer join nobody: not counted.
        pos_orders = SQL(
            """
            SELECT partner.commercial_partner_id AS partner_id,
                   pos.date_order::date AS day,
                   (pos.amount_total - pos.amount_tax)
                       / COALESCE(NULLIF(pos.currency_rate, 0), 1.0) AS amount,
                   %(margin)s AS margin,
                   customer.user_id AS user_id,
                   pos.id AS document_id
              FROM pos_order pos
              JOIN res_partner partner ON partner.id = pos.partner_id
              JOIN res_partner customer ON customer.id = partner.commercial_partner_id
             WHERE pos.company_id = %(company)s
               AND pos.state IN %(states)s
               AND pos.date_order < %(end_exclusive)s
               %(partner_filter)s
            """,
            company=company.id,
            states=SOLD_STATES,
            end_exclusive=end + timedelta(days=1),
            partner_filter=partner_filter,
            margin=self._pos_margin_sql(company, with_margin),
        )
        return SQL("(%s) UNION ALL (%s)", purchases, pos_orders)

    @api.model
    def _pos_margin_sql(self, company, with_margin=None):
        """Margin of a Point of Sale order (alias ``pos``) in company currency:
        its lines' untaxed amounts less their cost. A line's ``total_cost``
        (order currency) is set when its session closes; before that, today's
        product cost. Lines without cost follow the rule of order lines (the
        company's default margin rate, never all of it); reward lines are
        discounts, all margin."""
        if not self._with_margin(company, with_margin):
            return SQL("NULL::numeric")
        self.env["pos.order.line"].flush_model()
        rate = SQL("COALESCE(NULLIF(pos.currency_rate, 0), 1.0)")
        cost = SQL(
            """CASE WHEN line.is_total_cost_computed THEN line.total_cost / %(rate)s
                    ELSE COALESCE((product.standard_price ->> %(company)s)::numeric, 0.0)
                         * line.qty END""",
            rate=rate,
            company=str(company.id),
        )
        amount = SQL("line.price_subtotal / %s", rate)
        return SQL(
            """COALESCE((
                   SELECT SUM(CASE
                              WHEN %(cost)s <> 0 THEN %(amount)s - %(cost)s
                              WHEN line.reward_id IS NOT NULL
                                   OR template.retention_free_of_cost THEN %(amount)s
                              ELSE %(amount)s * %(default_rate)s
                          END)
                     FROM pos_order_line line
                     LEFT JOIN product_product product ON product.id = line.product_id
                     LEFT JOIN product_template template ON template.id = product.product_tmpl_id
                    WHERE line.order_id = pos.id
               ), 0.0)""",
            cost=cost,
            amount=amount,
            default_rate=company.retention_default_margin_rate / 100.0,
        )

    @api.model
    def _written_partner_queries(self, company, written):
        queries = super()._written_partner_queries(company, written)
        if company.retention_revenue_source != "orders_pos":
            return queries
        self.env["pos.order"].flush_model()
        pos_orders = SQL(
            """
            SELECT DISTINCT partner.commercial_partner_id
              FROM pos_order document
              JOIN res_partner partner ON partner.id = document.partner_id
             WHERE document.company_id = %s AND %s
            """,
            company.id,
            written,
        )
        return [*queries, pos_orders]
