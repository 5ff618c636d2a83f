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

    @api.model
    def _purchased_lines_query(self, company, customer_ids=None, date_from=None):
        """Products bought at the till count too (baskets bought together,
        usual products), net of what came back, in company currency. Refund
        orders and reward lines are no purchases."""
        lines = super()._purchased_lines_query(
            company, customer_ids=customer_ids, date_from=date_from
        )
        self.env["pos.order"].flush_model()
        self.env["pos.order.line"].flush_model()
        pos_lines = SQL(
            """
            SELECT 'pos.order'::varchar AS order_model, pos.id AS order_id,
                   partner.commercial_partner_id AS customer_id, pos.date_order,
                   company.currency_id, line.product_id,
                   line.qty - COALESCE(returned.qty, 0) AS quantity,
                   line.price_subtotal * (line.qty - COALESCE(returned.qty, 0)) / line.qty
                       / COALESCE(NULLIF(pos.currency_rate, 0), 1.0) AS subtotal,
                   false AS subscription
              FROM pos_order_line line
              JOIN pos_order pos ON pos.id = line.order_id
              JOIN res_partner partner ON partner.id = pos.partner_id
              JOIN res_company company ON company.id = pos.company_id
              LEFT JOIN LATERAL (
                   SELECT -sum(refund.qty) AS qty
                     FROM pos_order_line refund
                     JOIN pos_order refund_order ON refund_order.id = refund.order_id
                    WHERE refund.refunded_orderline_id = line.id
                      AND refund_order.state IN %(states)s
              ) returned ON true
             WHERE pos.company_id = %(company)s AND pos.state IN %(states)s
               AND line.product_id IS NOT NULL AND line.qty > 0
               AND NOT COALESCE(line.is_reward_line, false)
               AND line.qty - COALESCE(returned.qty, 0) > 0
               %(filter)s
            """,
            company=company.id,
            states=SOLD_STATES,
            filter=self._purchased_lines_filter(SQL("pos.date_order"), customer_ids, date_from),
        )
        return SQL("(%s) UNION ALL (%s)", lines, pos_lines)
