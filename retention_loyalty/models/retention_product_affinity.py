import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .retention_customer_month import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)

# Customers who buy X also buy Y: pairs bought by at least this many
# customers, at most this many related products per product.
MIN_CUSTOMERS = 3
RELATED_PER_PRODUCT = 5
LOOKBACK_DAYS = 730


class RetentionProductAffinity(models.Model):
    """Customers who buy a product also buy these: co-purchases by customer
    over the last two years, per company, refreshed every night."""

    _name = "retention.product.affinity"
    _description = "Products Bought Together"
    _order = "company_id, product_id, score desc, id"
    _log_access = False

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    product_id = fields.Many2one(
        "product.product",
        string="Customers Who Buy",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    related_product_id = fields.Many2one(
        "product.product", string="Also Buy", required=True, readonly=True, ondelete="cascade"
    )
    customer_count = fields.Integer(
        string="Customers", readonly=True, help="Customers who bought both products."
    )
    confidence = fields.Float(
        string="Share (%)",
        readonly=True,
        aggregator="avg",
        help="Of the customers who buy the first product, the share who also buy the second.",
    )
    lift = fields.Float(
        readonly=True,
        aggregator="avg",
        digits=(16, 2),
        help="How much more likely the second product is among buyers of the first than "
        "among all customers (1: no link).",
    )
    score = fields.Float(readonly=True, help="Share x lift: the order of the suggestions.")

    @api.model
    def _cron_refresh(self):
        """Rebuild every company's pairs, each company committed on its own."""
        for company in self.env["res.company"].search([]):  # pylint: disable=no-search-all
            try:
                with self.env.cr.savepoint():
                    self._refresh_company(company)
            except CONCURRENCY_ERRORS:
                raise
            except Exception:  # pylint: disable=broad-except
                _logger.exception("Products bought together: %s failed", company.name)

    @api.model
    def _refresh_company(self, company, today=None):
        """The company's pairs from its confirmed orders, in one statement."""
        today = today or fields.Date.context_today(self.with_company(company))
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                DELETE FROM retention_product_affinity WHERE company_id = %(company)s;
                WITH bought AS (%(bought)s),
                customers AS (SELECT count(DISTINCT customer_id) AS total FROM bought),
                buyers AS (
                    SELECT product_id, count(*) AS buyers FROM bought GROUP BY product_id
                ),
                pairs AS (
                    SELECT one.product_id, other.product_id AS related_product_id,
                           count(*) AS both_count
                      FROM bought one
                      JOIN bought other ON other.customer_id = one.customer_id
                                       AND other.product_id != one.product_id
                  GROUP BY one.product_id, other.product_id
                    HAVING count(*) >= %(min_customers)s
                ),
                scored AS (
                    SELECT pairs.product_id, pairs.related_product_id, pairs.both_count,
                           100.0 * pairs.both_count / first.buyers AS confidence,
                           pairs.both_count::float * customers.total
                               / (first.buyers * second.buyers) AS lift
                      FROM pairs
                      JOIN buyers first ON first.product_id = pairs.product_id
                      JOIN buyers second ON second.product_id = pairs.related_product_id
                     CROSS JOIN customers
                ),
                ranked AS (
                    SELECT *, row_number() OVER (
                               PARTITION BY product_id
                               ORDER BY confidence * lift DESC, related_product_id
                           ) AS rank
                      FROM scored
                     WHERE lift > 1
                )
                INSERT INTO retention_product_affinity
                       (company_id, product_id, related_product_id, customer_count,
                        confidence, lift, score)
                SELECT %(company)s, product_id, related_product_id, both_count,
                       confidence, lift, confidence * lift
                  FROM ranked
                 WHERE rank <= %(per_product)s
                """,
                company=company.id,
                bought=self._bought(company, date_from=today - timedelta(days=LOOKBACK_DAYS)),
                min_customers=MIN_CUSTOMERS,
                per_product=RELATED_PER_PRODUCT,
            )
        )
        self.invalidate_model()

    @api.model
    def _bought(self, company, customer_ids=None, date_from=None):
        """(customer, product) pairs of the company's purchases (confirmed
        order lines, and the till's where a bridge adds them); reward lines
        left out."""
        lines = self.env["retention.customer.stat"]._purchased_lines_query(
            company, customer_ids=customer_ids, date_from=date_from
        )
        return SQL("SELECT DISTINCT customer_id, product_id FROM (%s) line", lines)

    @api.model
    def _suggestions(self, company, customer_ids, limit=3):
        """{customer id: products} each customer does not buy yet, related to
        what they bought, the strongest links first; one query."""
        if not customer_ids:
            return {}
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH bought AS (%(bought)s),
                candidates AS (
                    SELECT bought.customer_id, affinity.related_product_id,
                           max(affinity.score) AS score
                      FROM bought
                      JOIN retention_product_affinity affinity
                        ON affinity.product_id = bought.product_id
                       AND affinity.company_id = %(company)s
                      JOIN product_product product ON product.id = affinity.related_product_id
                      JOIN product_template template ON template.id = product.product_tmpl_id
                     WHERE product.active AND template.sale_ok
                       AND NOT EXISTS (
                           SELECT 1 FROM bought own
                            WHERE own.customer_id = bought.customer_id
                              AND own.product_id = affinity.related_product_id
                       )
                  GROUP BY bought.customer_id, affinity.related_product_id
                )
                SELECT customer_id, related_product_id FROM (
                    SELECT *, row_number() OVER (
                               PARTITION BY customer_id ORDER BY score DESC, related_product_id
                           ) AS rank
                      FROM candidates
                ) ranked
                 WHERE rank <= %(limit)s
              ORDER BY customer_id, rank
                """,
                company=company.id,
                bought=self._bought(company, customer_ids=customer_ids),
                limit=limit,
            )
        )
        Product = self.env["product.product"]
        suggestions = {}
        for customer_id, product_id in self.env.cr.fetchall():
            suggestions[customer_id] = suggestions.get(customer_id, Product) | Product.browse(
                product_id
            )
        return suggestions
