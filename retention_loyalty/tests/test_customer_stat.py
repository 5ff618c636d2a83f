import math
import time
from datetime import date, timedelta
from unittest.mock import patch

from psycopg2 import IntegrityError
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import TODAY, RetentionCase, make_order, make_product

STAT_LOGGER = "odoo.addons.retention_loyalty.models.retention_customer_stat"


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCustomerStatistics(RetentionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_partner = cls._customer("Acme", is_company=True, user_id=cls.salesman.id)
        cls.contact = cls._customer("Ann of Acme", parent_id=cls.company_partner.id)
        # Acme: 4 orders on 3 days, two of them through its contact.
        cls._orders(cls.company_partner, [400, 100])
        cls._orders(cls.contact, [100, 40], amount=50.0)
        # Left out: cancelled, future-dated, zero-amount (not a purchase day).
        cls._orders(cls.company_partner, [20], amount=999.0, state="cancel")
        cls._orders(cls.company_partner, [-5], amount=999.0)
        cls._orders(cls.company_partner, [10], amount=0.0)
        cls.one_order = cls._customer("Once", user_id=cls.other_salesman.id)
        cls._orders(cls.one_order, [300], amount=80.0)
        cls.never = cls._customer("Never ordered")
        cls.archived = cls._customer("Archived buyer")
        cls._orders(cls.archived, [200, 150], amount=30.0)
        cls.archived.active = False
        cls.regulars = cls._regular_customers(40, user_id=cls.salesman.id)

    def test_figures_of_a_company_and_its_contacts(self):
        self._recompute(full=True)
        stat = self._stat(self.company_partner)
        self.assertEqual(len(stat), 1)
        self.assertFalse(self._stat(self.contact), "contacts count at their company")
        self.assertEqual(stat.first_order_date, TODAY - timedelta(days=400))
        self.assertEqual(stat.last_order_date, TODAY - timedelta(days=40))
        self.assertEqual(stat.order_count, 4)
        self.assertEqual(stat.purchase_day_count, 3)
        self.assertAlmostEqual(stat.revenue_total, 300.0)
        self.assertAlmostEqual(stat.revenue_12m, 200.0)
        self.assertAlmostEqual(stat.average_order_value, 75.0)
        # Purchase days 400, 100 and 40 days ago: gaps of 300 and 60 days.
        self.assertAlmostEqual(stat.median_gap_days, 180.0)
        self.assertAlmostEqual(stat.mean_gap_days, 180.0)
        self.assertAlmostEqual(stat.repeat_order_value, 100.0)  # (150 + 50) / 2
        self.assertEqual(stat.days_since_last_order, 40)
        self.assertEqual(stat.user_id, self.salesman)
        # The company's revenue of the last 12 months (orders less than 365 days
        # old), from the orders made above: Acme 200, Once 80, Archived 2 x 30
        # and each regular's orders of the window.
        regulars_12m = sum(
            (50 + index) * sum(1 for ago in range(720 - index, index % 7, -30) if ago < 365)
            for index in range(40)
        )
        total_12m = 200.0 + 80.0 + 60.0 + regulars_12m
        # The share is kept to 3 decimals.
        self.assertAlmostEqual(stat.revenue_share_12m, 200.0 / total_12m * 100, delta=0.0005)
        self.assertEqual(stat.computed_on, TODAY)

    def test_edge_customers(self):
        self._recompute(full=True)
        self.assertFalse(self._stat(self.never))
        once = self._stat(self.one_order)
        self.assertEqual((once.order_count, once.purchase_day_count), (1, 1))
        # One order: measured against the typical gap to a second order, the
        # median over the repeat customers (the 40 regulars' 30 days, Acme's
        # 300, Archived's 50): 300 days / 30 = 10 times overdue, beyond the
        # "lost" ratio of 4. BG/NBD cannot see one-order customers leave; the
        # rhythm can: exp(-(10 - 1)).
        self.assertEqual(once.usual_gap_days, 30.0)
        self.assertEqual(once.overdue_ratio, 10.0)
        self.assertAlmostEqual(once.p_alive, math.exp(-9), places=12)
        self.assertEqual(once.risk_level, "lost", "300 days without a second order")
        self.assertEqual(
            self._stat(self.archived).order_count, 2, "archived customers keep figures"
        )

    def test_model_tiers_and_risk(self):
        self._recompute(full=True)
        fit = self.Stat._current_fit(self.company)
        self.assertEqual(fit.method, "bgnbd", fit.note)
        self.assertGreater(fit.bgnbd_r, 0)
        self.assertGreater(fit.holdout_actual, 0)
        stats = self.Stat.search([])
        self.assertEqual(set(stats.mapped("method")), {"bgnbd"})
        self.assertEqual(stats.value_tier_id.sorted().mapped("name"), ["A", "B", "C"])
        # The Pareto rule on the 12-month revenue of the orders made above:
        # ranked from the largest, a customer is in the first tier (A 80 %,
        # B 95 %, C 100 %) whose share was not reached by the customers worth
        # more than them (equal values share a tier).
        revenue = {self.company_partner: 200.0, self.one_order: 80.0, self.archived: 60.0}
        for index, regular in enumerate(self.regulars):
            window = [ago for ago in range(720 - index, index % 7, -30) if ago < 365]
            revenue[regular] = (50.0 + index) * len(window)
        total = sum(revenue.values())
        expected = {}
        for partner, value in revenue.items():
            before = sum(other for other in revenue.values() if other > value) / total
            expected[partner] = "A" if before < 0.80 else "B" if before < 0.95 else "C"
        self.assertEqual({stat.partner_id: stat.value_tier_id.name for stat in stats}, expected)
        self.assertEqual(set(expected.values()), {"A", "B", "C"})
        # Ordered 29 days ago, every 30 days: not due yet (the first regular
        # is due today, which is Medium for a company created now).
        regular = self._stat(self.regulars[1])
        self.assertEqual(regular.risk_level, "low")
        self.assertTrue(regular.expected_next_order_date)
        self.assertGreaterEqual(regular.expected_next_order_date, TODAY)
        self.assertEqual(regular.segment, f"{regular.value_tier_id.name} / Low")
        for stat in stats:
            self.assertTrue(0 <= stat.p_alive <= 1)
            self.assertGreaterEqual(stat.clv, 0)
            self.assertGreaterEqual(stat.value_at_stake, 0)

    def test_segment_changes_are_tracked(self):
        self._recompute(full=True)
        stat = self._stat(self.regulars[3])
        self.assertEqual(stat.risk_level, "low")
        with freeze_time(TODAY + timedelta(days=400)):
            self.Stat._recompute_company(self.company, today=TODAY + timedelta(days=400))
        stat.invalidate_recordset()
        self.assertEqual(stat.risk_level, "lost", "risk re-ages with time alone")
        history = self.env["retention.segment.history"].search(
            [("partner_id", "=", self.regulars[3].id)]
        )
        self.assertEqual(len(history), 1)
        self.assertEqual(history.old_risk_level, "low")
        self.assertEqual(history.risk_level, "lost")
        self.assertEqual(history.date, TODAY + timedelta(days=400))
        self.assertEqual(self.regulars[3].retention_segment_history_ids, history)
        # Analytics stay behind their own rights: nothing goes to the customer's
        # chatter, which every employee reads.
        self.assertFalse(
            self.regulars[3].message_ids.filtered(
                lambda message: (
                    "Lost" in (message.body or "") or "segment" in (message.body or "").lower()
                )
            )
        )
        employee = new_test_user(self.env, login="rl_stat_employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            history.with_user(employee).read(["segment"])

    def test_incremental_run_reads_changed_customers_again(self):
        self._recompute(full=True)
        self._orders(self.one_order, [1], amount=40.0)
        archived_orders = self.env["sale.order"].search([("partner_id", "=", self.archived.id)])
        archived_orders.write({"state": "cancel"})
        changed = self.Stat._changed_partner_ids(self.company, TODAY)
        self.assertLessEqual({self.one_order.id, self.archived.id}, set(changed))
        self._recompute()
        stat = self._stat(self.one_order)
        self.assertEqual(stat.order_count, 2)
        self.assertEqual(stat.last_order_date, TODAY - timedelta(days=1))
        self.assertFalse(self._stat(self.archived), "no purchase left: no figures")
        # Regular 0 ordered every 30 days from 720 to 30 days ago: 24 orders.
        self.assertEqual(self._stat(self.regulars[0]).order_count, 24, "unchanged, kept")
        self.assertEqual(len(self.env["retention.model.fit"].search([])), 1, "no refit")

    def test_a_customer_created_in_the_same_transaction_is_read(self):
        """The incremental run reads changed orders with SQL: a customer whose
        company link is not saved yet must still be found."""
        self._recompute(full=True)
        newcomer = self._customer("Newcomer")
        self._orders(newcomer, [3], amount=25.0)
        self._recompute()
        self.assertRecordValues(self._stat(newcomer), [{"order_count": 1, "revenue_total": 25.0}])

    def test_orders_leaving_the_12_month_window_change_their_customer(self):
        # Regular 25 ordered exactly 365 days ago: the order left the window today.
        leaving = self.Stat._leaving_window_partner_ids(self.company, date(2026, 6, 29), TODAY)
        self.assertEqual(leaving, [self.regulars[25].id])

    def test_a_failing_company_does_not_hold_back_the_others(self):
        broken = self.env["res.company"].create({"name": "Broken Stats Co"})
        broken.retention_full_run_requested = True  # taken first
        Stat = self.registry["retention.customer.stat"]
        recompute_company = Stat._recompute_company
        called = []

        def recompute(model, company, today=None, full=None):
            called.append(company)
            if company == broken:
                raise ValueError("settings from an old version")
            return recompute_company(model, company, today=today, full=full)

        with (
            patch.object(Stat, "_recompute_company", recompute),
            self.assertLogs(STAT_LOGGER, level="ERROR") as logs,
        ):
            self.Stat._cron_recompute()
            self.Stat._cron_recompute()
        self.assertIn("Broken Stats Co", logs.output[0])
        self.assertEqual(called[:2], [broken, self.company])
        self.assertEqual(self._stat(self.regulars[0]).order_count, 24, "next company computed")
        self.assertEqual(broken.retention_stat_failed_on, fields.Datetime.now())
        self.assertFalse(broken.retention_last_run)
        self.assertTrue(broken.retention_full_run_requested, "kept stale, asked again tomorrow")
        called.clear()
        with patch.object(Stat, "_recompute_company", recompute):
            self.Stat._cron_recompute()
        self.assertNotIn(broken, called, "left alone for the rest of the day")

    def test_few_customers_use_the_fallback_and_say_so(self):
        company = self.env["res.company"].create({"name": "Tiny Shop"})
        env = self.env(context=dict(self.env.context, allowed_company_ids=[company.id]))
        partners = env["res.partner"].create([{"name": f"Tiny {i}"} for i in range(5)])
        for index, partner in enumerate(partners):
            self._orders(
                partner.with_env(env), [90 + index * 30, 10 + index * 30], company_id=company.id
            )
        self.Stat._recompute_company(company, today=TODAY)
        fit = self.Stat._current_fit(company)
        self.assertEqual(fit.method, "heuristic")
        self.assertIn("fewer than", fit.note)
        stats = self.Stat.search([("company_id", "=", company.id)])
        self.assertEqual(len(stats), 5)
        self.assertEqual(set(stats.mapped("method")), {"heuristic"})
        self.assertFalse(
            self.Stat.search(
                [("company_id", "=", company.id), ("partner_id", "in", self.regulars.ids)]
            )
        )

    def test_recompute_query_count_does_not_grow_with_customers(self):
        """The daily update's query budget: a company's first (full) run, an
        incremental run for one changed customer and the next day's re-aging
        of everyone take a fixed number of queries, whether the company has 20
        or 120 customers."""

        def queries(budget, company, today=TODAY):
            self.env.flush_all()
            before = self.cr.sql_log_count
            with freeze_time(today), self.assertQueryCount(budget):
                self.Stat._recompute_company(company, today=today)
            return self.cr.sql_log_count - before

        counts = []
        for size in (20, 120):
            company = self.env["res.company"].create({"name": f"Shop of {size}"})
            partners = self.env["res.partner"].create(
                [{"name": f"Buyer {size}-{i}"} for i in range(size)]
            )
            for index, partner in enumerate(partners):
                self._orders(partner, range(700 - index, index % 9, -25), company_id=company.id)
            # Service failures of every source (bridges included) are one query;
            # the fit's calibration table two (its defaults, one insert).
            full = queries(23, company)
            self._orders(partners[0], [0], company_id=company.id)
            # Both runs log a risk change (a customer due today is Medium, the
            # one who just ordered Low again): the history's insert is counted.
            changed = queries(16, company)
            reaged = queries(17, company, TODAY + timedelta(days=1))
            counts.append((full, changed, reaged))
        self.assertEqual(counts[0], counts[1], "20 or 120 customers: the same queries")

    def test_thresholds_are_validated(self):
        with self.assertRaises(ValidationError):
            self.company.retention_high_p_alive = 0.9  # above the medium threshold
        with self.assertRaises(ValidationError):
            self.company.retention_lost_overdue = 1.0
        with self.assertRaises(ValidationError):
            self.company.retention_clv_horizon_months = 0
        with self.assertRaises(ValidationError):
            self.company.retention_monthly_discount_rate = -0.5
        tiers = self.env["retention.value.tier"]._ensure_company_tiers(self.company)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            tiers[0].cutoff_percent = 120
        with self.assertRaises(IntegrityError), self.cr.savepoint(), mute_logger("odoo.sql_db"):
            tiers[0].cutoff_percent = tiers[1].cutoff_percent
            tiers.flush_recordset()


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCustomerStatisticsAccess(RetentionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mine = cls._regular_customers(20, prefix="Mine", user_id=cls.salesman.id)
        cls.theirs = cls._regular_customers(20, prefix="Theirs", user_id=cls.other_salesman.id)
        cls.Stat._recompute_company(cls.company, today=TODAY, full=True)

    def test_salesperson_sees_own_customers_only(self):
        as_salesman = self.Stat.with_user(self.salesman)
        self.assertEqual(as_salesman.search([]).partner_id, self.mine)
        with self.assertRaises(AccessError):
            as_salesman.browse(self._stat(self.theirs[0]).id).read(["clv"])
        partner = self.theirs[0].with_user(self.salesman)
        self.assertFalse(partner.retention_stat_id)
        self.assertFalse(partner.retention_clv)
        self.assertEqual(
            self.mine[0].with_user(self.salesman).retention_value_tier_id,
            self._stat(self.mine[0]).value_tier_id,
        )
        self.assertTrue(self._stat(self.mine[0]).value_tier_id)
        with self.assertRaises(AccessError):
            as_salesman.browse(self._stat(self.mine[0]).id).write({"clv": 1})

    def test_managers_see_everyone(self):
        manager = new_test_user(
            self.env, login="rl_stat_manager", groups="sales_team.group_sale_manager"
        )
        self.assertEqual(self.Stat.with_user(manager).search_count([]), 40)
        # The second of them is not due yet (the first is due today: Medium).
        order = self._orders(self.theirs[1], [1])
        self.assertEqual(order.with_user(manager).retention_risk_level, "low")
        self.assertEqual(self._stat(self.theirs[1]).risk_level, "low")

    def test_other_company_sees_nothing(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        user = new_test_user(
            self.env,
            login="rl_other_company",
            groups="sales_team.group_sale_manager",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        self.assertFalse(self.Stat.with_user(user).search([]))
        self.assertFalse(self.mine[0].with_user(user).with_company(other).retention_stat_id)

    def test_changing_what_figures_mean_recomputes_everyone_at_the_next_run(self):
        self.Stat._cron_recompute()
        self.assertFalse(self.company.retention_full_run_requested)
        # The same value again changes nothing; saving the settings page rewrites them all.
        self.company.retention_revenue_source = self.company.retention_revenue_source
        self.env["res.config.settings"].create({}).execute()
        self.assertFalse(self.company.retention_full_run_requested)
        for name, value in (
            ("retention_revenue_source", "invoices"),
            ("retention_tier_basis", "clv"),
            ("retention_clv_horizon_months", 24),
            ("retention_monthly_discount_rate", 0.02),
        ):
            self.company.retention_full_run_requested = False
            self.company[name] = value
            self.assertTrue(self.company.retention_full_run_requested, name)
        fits = self.env["retention.model.fit"].search_count([])
        self.Stat._cron_recompute()
        self.assertFalse(self.company.retention_full_run_requested)
        self.assertEqual(self.env["retention.model.fit"].search_count([]), fits + 1)

    def test_recompute_now_runs_in_the_background(self):
        settings = self.env["res.config.settings"].create({})
        cron = self.env.ref("retention_loyalty.ir_cron_retention_recompute")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        action = settings.action_retention_recompute()
        self.assertEqual(action["tag"], "display_notification")
        self.assertTrue(self.company.retention_full_run_requested)
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1
        )
        fits = self.env["retention.model.fit"].search_count([])
        self.Stat._cron_recompute()
        self.assertFalse(self.company.retention_full_run_requested)
        self.assertEqual(self.env["retention.model.fit"].search_count([]), fits + 1)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestRevenueSources(RetentionCase):
    def test_orders_in_another_currency_count_in_company_currency(self):
        company_currency = self.company.currency_id
        other = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search(
                [("id", "!=", company_currency.id), ("name", "in", ("EUR", "USD", "CHF"))], limit=1
            )
        )
        other.active = True
        self.env["res.currency.rate"].create(
            {"currency_id": other.id, "name": TODAY - timedelta(days=400), "rate": 2.0}
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "Foreign", "currency_id": other.id}
        )
        partner = self._customer("Foreign buyer")
        self._orders(partner, [200, 100], amount=300.0, pricelist_id=pricelist.id)
        self._recompute(full=True)
        stat = self._stat(partner)
        self.assertEqual(stat.currency_id, company_currency)
        self.assertAlmostEqual(stat.revenue_total, 300.0)  # 600 in the other currency / 2

    def test_posted_invoices_net_of_refunds(self):
        if not self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company.id)], limit=1
        ):
            self.skipTest("no sales journal: the company has no chart of accounts")
        self.company.retention_revenue_source = "invoices"
        partner = self._customer("Invoiced buyer")
        orders = self._orders(partner, [100, 40], amount=200.0)
        invoices = orders[0]._create_invoices() | orders[1]._create_invoices()
        for invoice, days_ago in zip(invoices, (100, 40), strict=True):
            invoice.invoice_date = TODAY - timedelta(days=days_ago)
        invoices.action_post()
        refund = invoices[1]._reverse_moves(
            default_values_list=[{"invoice_date": TODAY - timedelta(days=30)}]
        )
        refund.invoice_line_ids.price_unit = 50.0
        refund.action_post()
        self._orders(partner, [10], amount=999.0)  # ordered, not invoiced: not counted
        self._recompute(full=True)
        stat = self._stat(partner)
        self.assertEqual(stat.order_count, 2)
        self.assertEqual(stat.purchase_day_count, 2)
        self.assertEqual(stat.last_order_date, TODAY - timedelta(days=40))
        self.assertAlmostEqual(stat.revenue_total, 350.0)  # 200 + 200 - 50


@tagged("post_install", "-at_install")
class TestIncrementalStatisticsConcurrency(TransactionCase):
    """Real transactions: an order whose transaction started before a
    statistics run and committed after the run read the orders carries an
    earlier write date than the run's end; the next incremental run must
    still read its customer.

    Both runs share one read-committed transaction, so that nothing of theirs
    is committed, while other connections commit the order in between."""

    def _env(self, isolation=None):
        cursor = db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(cursor.close)
        if isolation is not None:
            cursor.connection.set_isolation_level(isolation)
        return api.Environment(
            cursor, SUPERUSER_ID, {"tracking_disable": True, "mail_create_nolog": True}
        )

    def setUp(self):
        super().setUp()
        env = self._env()
        self.today = fields.Date.context_today(env["retention.customer.stat"])
        product = make_product(env, "Watermark coffee", 10.0)
        regular, returning, late = env["res.partner"].create(
            [{"name": "Regular buyer"}, {"name": "Returning buyer"}, {"name": "Late buyer"}]
        )
        for partner in (regular, returning):
            for days_ago in (200, 100, 30):
                make_order(env, partner, product, 50.0, day=self.today - timedelta(days=days_ago))
        env.cr.commit()
        self.product, self.regular, self.returning, self.late = product, regular, returning, late
        self.addCleanup(self._remove, product.id, (regular | returning | late).ids)

    def _remove(self, product_id, partner_ids):
        env = self._env()
        env.cr.execute("DELETE FROM sale_order WHERE partner_id IN %s", [tuple(partner_ids)])
        env["res.partner"].browse(partner_ids).unlink()
        env["product.product"].browse(product_id).product_tmpl_id.unlink()
        env.cr.commit()

    def test_orders_committed_during_a_run_are_read_by_the_next_one(self):
        order_env = self._env()
        # The order's transaction starts (and dates the order) before the run ...
        make_order(order_env, self.late, self.product, 80.0, day=self.today - timedelta(days=1))
        order_env.flush_all()
        time.sleep(1)  # a run takes longer than the second its end time is kept to
        run_env = self._env(ISOLATION_LEVEL_READ_COMMITTED)
        Stat = run_env["retention.customer.stat"]
        company = run_env.company
        Stat._recompute_company(company, today=self.today, full=True)
        self.assertFalse(Stat.search([("partner_id", "=", self.late.id)]))
        Fit = run_env["retention.model.fit"]
        fits = Fit.search_count([("company_id", "=", company.id)])
        # ... and commits after the run read the orders; so does a cancellation.
        order_env.cr.commit()
        cancel_env = self._env()
        cancel_env["sale.order"].search([("partner_id", "=", self.returning.id)]).write(
            {"state": "cancel"}
        )
        cancel_env.cr.commit()
        Stat._recompute_company(company, today=self.today)
        self.assertEqual(Fit.search_count([("company_id", "=", company.id)]), fits, "no refit")
        stat = Stat.search([("partner_id", "=", self.late.id)])
        self.assertRecordValues(
            stat, [{"order_count": 1, "last_order_date": self.today - timedelta(days=1)}]
        )
        self.assertFalse(Stat.search([("partner_id", "=", self.returning.id)]))
        self.assertEqual(Stat.search([("partner_id", "=", self.regular.id)]).order_count, 3)
        # Orders committed after this run are read by the next one.
        make_order(self._env(), self.regular, self.product, 20.0, day=self.today).env.cr.commit()
        self.assertIn(self.regular.id, Stat._changed_partner_ids(company, self.today))
        run_env.cr.rollback()
