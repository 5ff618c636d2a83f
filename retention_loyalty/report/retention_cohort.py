from odoo import api, fields, models, tools
from odoo.tools import SQL

COHORT_MONTHS = 12


def _month_field(offset):
    return fields.Float(
        string=f"Month {offset}",
        readonly=True,
        aggregator="avg",
        help=f"Share of the cohort who bought in the {offset}. month after their first "
        "purchase month; empty until that month has come.",
    )


class RetentionCohort(models.Model):
    """One row per company and month of first purchases (every month from
    the first cohort to the dashboard's latest month, empty cohorts
    included): its size and the share of it who bought in each of the 12
    following months. Read from the dashboard's customer months.

    Grouped, a month's share is the share of all customers of the grouped
    cohorts who had reached that month (a weighted average), never a sum."""

    _name = "retention.cohort"
    _description = "Cohort Retention"
    _auto = False
    _order = "cohort_month desc"
    _rec_name = "cohort_month"

    company_id = fields.Many2one("res.company", readonly=True)
    cohort_month = fields.Date(string="First Purchase Month", readonly=True)
    customer_count = fields.Integer(
        string="Customers", readonly=True, help="Customers whose first purchase was that month."
    )
    month_1 = _month_field(1)
    month_2 = _month_field(2)
    month_3 = _month_field(3)
    month_4 = _month_field(4)
    month_5 = _month_field(5)
    month_6 = _month_field(6)
    month_7 = _month_field(7)
    month_8 = _month_field(8)
    month_9 = _month_field(9)
    month_10 = _month_field(10)
    month_11 = _month_field(11)
    month_12 = _month_field(12)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        shares = SQL(", ").join(
            SQL(
                """CASE WHEN cohort.customer_count > 0
                         AND months.cohort_month + %(offset)s * interval '1 month'
                             <= months.last_month
                    THEN COALESCE(SUM(buyers.customers)
                                  FILTER (WHERE buyers.month_offset = %(offset)s), 0)::float
                         / cohort.customer_count
                    END AS %(column)s""",
                offset=offset,
                column=SQL.identifier(f"month_{offset}"),
            )
            for offset in range(1, COHORT_MONTHS + 1)
        )
        self.env.cr.execute(
            SQL(
                """CREATE VIEW %(view)s AS (
                    WITH bounds AS (
                        SELECT company_id, MIN(cohort_month) AS first_month,
                               MAX(month) AS last_month
                          FROM retention_customer_month
                         WHERE cohort_month IS NOT NULL
                         GROUP BY company_id
                    ), months AS (
                        SELECT company_id, last_month,
                               generate_series(first_month, last_month,
                                               interval '1 month')::date AS cohort_month
                          FROM bounds
                    ), cohort AS (
                        SELECT company_id, cohort_month, COUNT(*) AS customer_count
                          FROM retention_customer_month
                         WHERE month_offset = 0 AND buyer_count = 1
                         GROUP BY company_id, cohort_month
                    ), buyers AS (
                        SELECT company_id, cohort_month, month_offset, COUNT(*) AS customers
                          FROM retention_customer_month
                         WHERE buyer_count = 1 AND month_offset BETWEEN 1 AND %(months)s
                         GROUP BY company_id, cohort_month, month_offset
                    )
                    SELECT months.company_id::bigint * 100000
                             + (extract(year FROM months.cohort_month) * 12
                                + extract(month FROM months.cohort_month))::int AS id,
                           months.company_id, months.cohort_month,
                           COALESCE(cohort.customer_count, 0) AS customer_count,
                           %(shares)s
                      FROM months
                 LEFT JOIN cohort ON cohort.company_id = months.company_id
                                 AND cohort.cohort_month = months.cohort_month
                 LEFT JOIN buyers ON buyers.company_id = months.company_id
                                 AND buyers.cohort_month = months.cohort_month
                  GROUP BY months.company_id, months.cohort_month, months.last_month,
                           cohort.customer_count
                )""",
                view=SQL.identifier(self._table),
                months=COHORT_MONTHS,
                shares=shares,
            )
        )

    @api.model
    def _read_group_select(self, aggregate_spec, query):
        # A month's share over several cohorts: weighted by their sizes, over
        # the cohorts that have reached that month.
        fname, _dot, func = aggregate_spec.partition(":")
        if fname.startswith("month_") and func in ("avg", "sum"):
            share = self._field_to_sql(self._table, fname, query)
            size = self._field_to_sql(self._table, "customer_count", query)
            return SQL(
                "SUM(%(share)s * %(size)s) / NULLIF(SUM(%(size)s) FILTER "
                "(WHERE %(share)s IS NOT NULL), 0)",
                share=share,
                size=size,
            )
        return super()._read_group_select(aggregate_spec, query)
