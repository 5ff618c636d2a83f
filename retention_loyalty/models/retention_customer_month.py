import io
import logging
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta

from psycopg2.errors import DeadlockDetected, LockNotAvailable, SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine import customer_movement

_logger = logging.getLogger(__name__)

CONCURRENCY_ERRORS = (SerializationFailure, DeadlockDetected, LockNotAvailable)

# First key of the advisory lock held while a company's rows are rebuilt.
REBUILD_LOCK = 73_501_208


class DashboardBusyError(UserError):
    """Another transaction is rebuilding the same company's dashboard."""


COLUMNS = (
    "company_id",
    "partner_id",
    "month",
    "cohort_month",
    "month_offset",
    "user_id",
    "buyer_kind",
    "revenue",
    "revenue_new",
    "revenue_existing",
    "order_count",
    "buyer_count",
    "active_count",
    "new_count",
    "retained_count",
    "reactivated_count",
    "churned_count",
    "repeat_rate",
    "revenue_lost",
    "reactivated_user_id",
    "churned_user_id",
)


# Counts of customers in a state at the end of the month, counted once per
# customer over several months.
DISTINCT_CUSTOMER_COUNTS = ("active_count", "buyer_count", "retained_count")


class RetentionCustomerMonth(models.Model):
    """One customer in one month of one company: the facts behind the retention
    dashboard. Rebuilt from purchases by ``engine.customer_movement``, where
    every figure is defined; counts are 0/1 per row so that sums are customers."""

    _name = "retention.customer.month"
    _description = "Retention Dashboard: Customer Month"
    _order = "month desc, partner_id"
    _rec_name = "partner_id"
    _log_access = False

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    month = fields.Date(required=True, readonly=True)
    cohort_month = fields.Date(
        string="First Purchase Month", readonly=True, help="The customer's cohort."
    )
    month_offset = fields.Integer(
        string="Months Since First Purchase", readonly=True, aggregator=False
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        help="Salesperson of the customer's latest order up to the end of the month.",
    )
    buyer_kind = fields.Selection(
        [("new", "New customer"), ("existing", "Existing customer")],
        string="Customer Kind",
        readonly=True,
        help="New in the month of their first purchase, existing afterwards.",
    )
    revenue = fields.Monetary(readonly=True)
    revenue_new = fields.Monetary(string="Revenue from New Customers", readonly=True)
    revenue_existing = fields.Monetary(string="Revenue from Existing Customers", readonly=True)
    order_count = fields.Integer(string="Orders", readonly=True)
    buyer_count = fields.Integer(string="Buying Customers", readonly=True)
    active_count = fields.Integer(string="Active Customers", readonly=True)
    new_count = fields.Integer(string="New Customers", readonly=True)
    retained_count = fields.Integer(string="Retained Customers", readonly=True)
    reactivated_count = fields.Integer(string="Reactivated Customers", readonly=True)
    churned_count = fields.Integer(string="Churned Customers", readonly=True)
    repeat_rate = fields.Float(
        string="Repeat Purchase Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the buying customers who had bought before.",
    )
    revenue_lost = fields.Monetary(
        readonly=True,
        help="For a churned customer: what they bought in the active period up to their "
        "last purchase.",
    )
    reactivated_user_id = fields.Many2one(
        "res.users",
        string="Reactivated By",
        readonly=True,
        help="Salesperson of the purchase that reactivated the customer.",
    )
    churned_user_id = fields.Many2one(
        "res.users",
        string="Churned From",
        readonly=True,
        help="Salesperson of the customer's last purchase before they churned.",
    )

    @api.model
    def _read_group_select(self, aggregate_spec, query):
        # Customers who are active, buy or are retained in a month are counted
        # once over several months (the total of a year is not twelve
        # monthly counts added up); new, reactivated and churned are events.
        fname, _dot, func = aggregate_spec.partition(":")
        if fname in DISTINCT_CUSTOMER_COUNTS and func == "sum":
            flag = self._field_to_sql(self._table, fname, query)
            partner = self._field_to_sql(self._table, "partner_id", query)
            return SQL(
                "COUNT(DISTINCT %(partner)s) FILTER (WHERE %(flag)s = 1)",
                partner=partner,
                flag=flag,
            )
        return super()._read_group_select(aggregate_spec, query)

    def init(self):
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS retention_customer_month_unique_idx
                    ON retention_customer_month (company_id, month, partner_id);
                CREATE INDEX IF NOT EXISTS retention_customer_month_company_cohort_idx
                    ON retention_customer_month (company_id, cohort_month)
                    WHERE buyer_count = 1
                """
            )
        )

    # ------------------------------------------------------------------ refresh

    @api.model
    def _cron_rebuild(self):
        """Daily, one company per call (the cron runs again while companies are
        left), each committed on its own. A company whose rebuild fails is
        logged, kept stale (scorecards will try again and show the error) and
        left alone by the cron until the next day; one that another
        transaction is rebuilding is left to it."""
        start_of_today = fields.Datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        companies = self.env["res.company"].search([])  # pylint: disable=no-search-all
        due = companies.filtered(
            lambda c: (
                c._retention_dashboard_stale()
                and not (
                    c.retention_dashboard_failed_on
                    and c.retention_dashboard_failed_on >= start_of_today
                )
            )
        ).sorted(
            lambda c: (
                not c.retention_dashboard_requested,
                c.retention_dashboard_last_run or datetime.min,
            )
        )
        for company in due:
            try:
                with self.env.cr.savepoint():
                    self._rebuild_company(company)
            except DashboardBusyError:
                continue
            except CONCURRENCY_ERRORS:
                raise  # Odoo retries the cron on fresh data
            except Exception:  # pylint: disable=broad-except
                # One broken company must not hold the others back every night.
                _logger.exception("Retention dashboard of %s could not be rebuilt", company.name)
                company.sudo().retention_dashboard_failed_on = fields.Datetime.now()
            self.env["ir.cron"]._notify_progress(done=1, remaining=len(due) - 1)
            if not getattr(threading.current_thread(), "testing", False):
                self.env.cr.commit()  # pylint: disable=invalid-commit
            return
        if due:  # all being rebuilt elsewhere: look again in a while
            self.env.ref("retention_loyalty.ir_cron_retention_dashboard")._trigger(
                fields.Datetime.now() + timedelta(minutes=10)
            )
        self.env["ir.cron"]._notify_progress(done=0, remaining=0)

    @api.model
    def _rebuild_company(self, company, as_of=None):
        """Replace ``company``'s rows with the months of every customer up to
        ``as_of`` (default today). Returns the number of rows."""
        started = time.perf_counter()
        company = company.sudo()
        as_of = as_of or fields.Date.context_today(self.with_company(company))
        settings = company._retention_movement_settings()
        try:
            settings.validate()
        except ValueError as error:
            raise UserError(
                self.env._("%(company)s: %(error)s", company=company.name, error=error)
            ) from error
        cr = self.env.cr
        # One rebuild of a company at a time (the cron and a scorecard computation);
        # a lock of its own, so ordinary writes on the company never get in the way.
        cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", REBUILD_LOCK, company.id))
        if not cr.fetchone()[0]:
            raise DashboardBusyError(
                self.env._(
                    "The retention dashboard of %(company)s is being rebuilt right now; "
                    "try again in a minute.",
                    company=company.name,
                )
            )
        orders = defaultdict(list)
        for partner_id, day, amount, user_id in self._read_purchases(company, as_of):
            orders[partner_id].append((day, amount, user_id))
        buffer = io.StringIO()
        count = 0
        for partner_id, customer_orders in orders.items():
            for row in customer_movement.customer_months(customer_orders, as_of, settings):
                buffer.write(_copy_line(company.id, partner_id, row))
                count += 1
        del orders
        cr.execute(SQL("DELETE FROM retention_customer_month WHERE company_id = %s", company.id))
        buffer.seek(0)
        # COPY has no SQL() form in Odoo's cursor: use the driver's.
        cr._obj.copy_from(buffer, "retention_customer_month", columns=COLUMNS, null="")
        cr.execute(SQL("ANALYZE retention_customer_month"))
        self.invalidate_model()
        company.write(
            {
                "retention_dashboard_last_run": fields.Datetime.now(),
                "retention_dashboard_requested": False,
                "retention_dashboard_failed_on": False,
            }
        )
        _logger.info(
            "retention dashboard of %s: %d customer-months in %.1f s",
            company.name,
            count,
            time.perf_counter() - started,
        )
        return count

    @api.model
    def _read_purchases(self, company, as_of):
        return self.env.execute_query(
            SQL(
                """
                WITH purchases AS (%(purchases)s)
                SELECT partner_id, day, amount, user_id
                  FROM purchases
                 ORDER BY partner_id, day, document_id
                """,
                purchases=self.env["retention.customer.stat"]._purchases_query(
                    company, as_of, None, with_margin=False
                ),
            )
        )

    def action_open_partner(self):
        self.ensure_one()
        return self.partner_id._get_records_action()


def _copy_line(company_id, partner_id, row):
    repeat_rate = customer_movement.repeat_rate(row)
    values = (
        company_id,
        partner_id,
        row.month,
        row.cohort_month or "",
        "" if row.month_offset is None else row.month_offset,
        row.user_id or "",
        "new" if row.new else "existing",
        row.revenue,
        row.revenue if row.new else 0.0,
        0.0 if row.new else row.revenue,
        row.order_count,
        int(row.bought),
        int(row.active),
        int(row.new),
        int(row.retained),
        int(row.reactivated),
        int(row.churned),
        "" if repeat_rate is None else repeat_rate,
        row.revenue_lost,
        row.reactivated_user_id or "",
        row.churned_user_id or "",
    )
    return "\t".join(str(value) for value in values) + "\n"
