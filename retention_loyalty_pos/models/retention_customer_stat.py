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
    def _purchases_query(self, company, end, partner_ids):
        purchases = super()._purchases_query(company, end, partner_ids)
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
        )
        return SQL("(%s) UNION ALL (%s)", purchases, pos_orders)

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
