from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..models.retention_customer_month import REBUILD_LOCK
from .common import make_order, make_product

AS_OF = date(2026, 6, 15)


@tagged("post_install", "-at_install")
class TestRetentionDashboard(TransactionCase):
    """A hand-built customer base whose dashboard figures are worked out by
    hand below, with active, churn and reactivation periods of 90 days.

    Ann   10 Jan 100 (S1)                                  -> new Jan, churned 10 Apr (lost 100)
    Ben   20 Jan 200 (S1), 5 Mar 300 (S2)                  -> new Jan, churned 3 Jun (lost 500)
    Cleo  1 Sep 2025 150 (S2), 10 Feb 250 (S1)             -> new Sep, churned 30 Nov (lost 150),
                                                              reactivated 10 Feb, churned 11 May
    Dan   20 May 800 in a currency worth half (S2)         -> new May, 400 in company currency
    Fay   10 Mar 1000 (S1), 12 Apr 900 (S1), 20 Apr 600 (S2)
    Gus   15 Mar 500 (S2), 25 Apr 300 (S2)
    Eve   1 Mar 1000 in another company.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.company.write(
            {
                "retention_active_days": 90,
                "retention_churn_days": 90,
                "retention_reactivation_days": 90,
                "retention_bonus_expansion_percent": 10.0,
                "retention_bonus_per_reactivated": 50.0,
                "retention_bonus_churn_penalty": 80.0,
                "retention_bonus_high_value_threshold": 150.0,
            }
        )
        cls.product = make_product(cls.env, "Dashboard Coffee", 10.0)
        cls.s1 = new_test_user(cls.env, login="rl_dash_s1", groups="sales_team.group_sale_salesman")
        cls.s2 = new_test_user(cls.env, login="rl_dash_s2", groups="sales_team.group_sale_salesman")
        cls.admin = new_test_user(
            cls.env, login="rl_dash_admin", groups="retention_loyalty.group_retention_manager"
        )
        cls.manager = new_test_user(
            cls.env, login="rl_dash_manager", groups="sales_team.group_sale_manager"
        )
        names = ("Ann", "Ben", "Cleo", "Dan", "Fay", "Gus")
        cls.ann, cls.ben, cls.cleo, cls.dan, cls.fay, cls.gus = cls.env["res.partner"].create(
            [{"name": f"Dashboard {name}"} for name in names]
        )
        half = cls._half_value_currency()
        for partner, day, amount, user, extra in (
            (cls.ann, date(2026, 1, 10), 100.0, cls.s1, {}),
            (cls.ben, date(2026, 1, 20), 200.0, cls.s1, {}),
            (cls.ben, date(2026, 3, 5), 300.0, cls.s2, {}),
            (cls.cleo, date(2025, 9, 1), 150.0, cls.s2, {}),
            (cls.cleo, date(2026, 2, 10), 250.0, cls.s1, {}),
            (cls.dan, date(2026, 5, 20), 800.0, cls.s2, {"pricelist_id": half.id}),
            (cls.fay, date(2026, 3, 10), 1000.0, cls.s1, {}),
            (cls.fay, date(2026, 4, 12), 900.0, cls.s1, {}),
            (cls.fay, date(2026, 4, 20), 600.0, cls.s2, {}),
            (cls.gus, date(2026, 3, 15), 500.0, cls.s2, {}),
            (cls.gus, date(2026, 4, 25), 300.0, cls.s2, {}),
        ):
            make_order(cls.env, partner, cls.product, amount, day, user_id=user.id, **extra)
        cls.other_company = cls.env["res.company"].create({"name": "Dashboard Other Co"})
        cls.eve = cls.env["res.partner"].create({"name": "Dashboard Eve"})
        make_order(
            cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.other_company.id])),
            cls.eve,
            cls.product,
            1000.0,
            date(2026, 3, 1),
            company_id=cls.other_company.id,
        )
        cls.Month = cls.env["retention.customer.month"]
        cls.Scorecard = cls.env["retention.scorecard"]

    @classmethod
    def _half_value_currency(cls):
        """A pricelist in a currency of which 2 units make 1 of the company's."""
        currency = cls.env["res.currency"].create(
            {"name": "RLH", "symbol": "H", "rounding": 0.01, "active": True}
        )
        cls.env["res.currency.rate"].create(
            {
                "currency_id": currency.id,
                "name": "2025-01-01",
                "rate": 2.0 * cls.company.currency_id.rate,
                "company_id": cls.company.id,
            }
        )
        return cls.env["product.pricelist"].create({"name": "Half", "currency_id": currency.id})

    def _month_figures(self, month):
        measures = [
            "active_count",
            "new_count",
            "retained_count",
            "reactivated_count",
            "churned_count",
            "revenue",
            "revenue_new",
            "revenue_existing",
            "buyer_count",
            "revenue_lost",
        ]
        groups = self.Month._read_group(
            [("company_id", "=", self.company.id), ("month", "=", month)],
            [],
            [f"{name}:sum" for name in measures] + ["repeat_rate:avg"],
        )
        return dict(zip([*measures, "repeat_rate"], groups[0], strict=True))

    def test_monthly_movement_matches_the_hand_count(self):
        self.assertEqual(self.Month._rebuild_company(self.company, as_of=AS_OF), 27)
        # month: active, new, retained, reactivated, churned, revenue, new revenue, repeat rate
        expected = {
            date(2025, 9, 1): (1, 1, 0, 0, 0, 150.0, 150.0, 0.0),
            date(2025, 10, 1): (1, 0, 1, 0, 0, 0.0, 0.0, None),
            date(2025, 11, 1): (0, 0, 0, 0, 1, 0.0, 0.0, None),
            date(2026, 1, 1): (2, 2, 0, 0, 0, 300.0, 300.0, 0.0),
            date(2026, 2, 1): (3, 0, 2, 1, 0, 250.0, 0.0, 100.0),
            date(2026, 3, 1): (5, 2, 3, 0, 0, 1800.0, 1500.0, 100.0 / 3),
            date(2026, 4, 1): (4, 0, 4, 0, 1, 1800.0, 0.0, 100.0),
            date(2026, 5, 1): (4, 1, 3, 0, 1, 400.0, 400.0, 0.0),
            date(2026, 6, 1): (3, 0, 3, 0, 1, 0.0, 0.0, None),
        }
        for month, values in expected.items():
            figures = self._month_figures(month)
            active, new, retained, reactivated, churned, revenue, revenue_new, rate = values
            with self.subTest(month=month):
                self.assertEqual(figures["active_count"], active)
                self.assertEqual(figures["new_count"], new)
                self.assertEqual(figures["retained_count"], retained)
                self.assertEqual(figures["reactivated_count"], reactivated)
                self.assertEqual(figures["churned_count"], churned)
                self.assertAlmostEqual(figures["revenue"], revenue)
                self.assertAlmostEqual(figures["revenue_new"], revenue_new)
                self.assertAlmostEqual(figures["revenue_existing"], revenue - revenue_new)
                if rate is None:
                    self.assertFalse(figures["buyer_count"])
                else:
                    self.assertAlmostEqual(figures["repeat_rate"], rate)
        # December 2025: nobody active, nothing happened, no rows.
        self.assertFalse(self.Month.search_count([("month", "=", date(2025, 12, 1))]))
        churned = self.Month.search([("churned_count", "=", 1)], order="month")
        self.assertEqual(
            [(row.partner_id, row.revenue_lost, row.churned_user_id) for row in churned],
            [
                (self.cleo, 150.0, self.s2),
                (self.ann, 100.0, self.s1),
                (self.cleo, 250.0, self.s1),
                (self.ben, 500.0, self.s2),
            ],
        )
        reactivated = self.Month.search([("reactivated_count", "=", 1)])
        self.assertEqual(
            (reactivated.partner_id, reactivated.month, reactivated.reactivated_user_id),
            (self.cleo, date(2026, 2, 1), self.s1),
        )
        # Fay's April belongs to the salesperson of her latest purchase.
        fay_april = self.Month.search(
            [("partner_id", "=", self.fay.id), ("month", "=", date(2026, 4, 1))]
        )
        self.assertEqual((fay_april.user_id, fay_april.order_count), (self.s2, 2))

    def test_cohort_retention(self):
        """One row per month of first purchases, empty months included, with
        its size and the share of it who bought 1, 2, ... months later (empty
        until that month has come); grouped, a weighted share, never a sum."""
        self.Month._rebuild_company(self.company, as_of=AS_OF)
        Cohort = self.env["retention.cohort"].with_user(self.admin)
        months = [f"month_{offset}" for offset in range(1, 13)]
        rows = Cohort.search_read(
            [("company_id", "=", self.company.id)], ["cohort_month", "customer_count", *months]
        )
        table = {
            row["cohort_month"]: (row["customer_count"], [row[m] for m in months]) for row in rows
        }
        none = [False] * 12

        def shares(*values):
            return list(values) + [False] * (12 - len(values))

        self.assertEqual(
            table,
            {
                # Cleo came back in February, 5 months later; June is month 9.
                date(2025, 9, 1): (1, shares(0, 0, 0, 0, 1, 0, 0, 0, 0)),
                date(2025, 10, 1): (0, none),
                date(2025, 11, 1): (0, none),
                date(2025, 12, 1): (0, none),
                # Ben, one of Ann and Ben, bought in March.
                date(2026, 1, 1): (2, shares(0, 0.5, 0, 0, 0)),
                date(2026, 2, 1): (0, none),
                # Fay and Gus both bought in April.
                date(2026, 3, 1): (2, shares(1, 0, 0)),
                date(2026, 4, 1): (0, none),
                date(2026, 5, 1): (1, shares(0)),
                date(2026, 6, 1): (0, none),
            },
        )
        # By year: cohort sizes add up; a month's share is that of all the
        # customers of the cohorts that reached it (2026, month 1: Fay and
        # Gus of Ann, Ben, Fay, Gus and Dan; month 2: Ben of the first four).
        (year,) = Cohort._read_group(
            [("company_id", "=", self.company.id), ("cohort_month", ">=", date(2026, 1, 1))],
            [],
            ["customer_count:sum", "month_1:avg", "month_2:avg", "month_6:avg"],
        )
        self.assertEqual(year, (5, 2 / 5, 1 / 4, False))  # nobody reached month 6 yet

    def test_overview_totals_count_customers_once(self):
        """Over several months, active, buying and retained customers are
        counted once each, not once per month; events add up."""
        self.Month._rebuild_company(self.company, as_of=AS_OF)
        (total,) = self.Month.with_user(self.admin)._read_group(
            [("company_id", "=", self.company.id)],
            [],
            [
                "active_count:sum",
                "buyer_count:sum",
                "retained_count:sum",
                "new_count:sum",
                "churned_count:sum",
            ],
        )
        # Six customers, each active at some month end, each bought and each
        # still active at the end of the month after a purchase; six new
        # customers; four churns (Cleo twice). Month by month: 23 active.
        self.assertEqual(total, (6, 6, 6, 6, 4))

    def test_definitions_are_company_settings(self):
        self.Month._rebuild_company(self.company, as_of=AS_OF)
        self.assertFalse(self.company._retention_dashboard_stale())
        self.company.retention_active_days = 30
        self.assertTrue(self.company.retention_dashboard_requested)
        self.company.retention_dashboard_requested = False
        action = self.env["res.config.settings"].create({}).action_retention_refresh_dashboard()
        self.assertEqual(action["tag"], "display_notification")
        self.assertTrue(self.company.retention_dashboard_requested)
        self.Month._rebuild_company(self.company, as_of=AS_OF)
        self.assertFalse(self.company.retention_dashboard_requested)
        # Ann (10 Jan) and Ben (20 Jan) are active for 30 days only: only Cleo is at the end
        # of February.
        self.assertEqual(self._month_figures(date(2026, 2, 1))["active_count"], 1)
        self.assertEqual(self._month_figures(date(2026, 2, 1))["churned_count"], 0)
        with self.assertRaises(ValidationError) as error:
            self.company.retention_churn_days = 20
        self.assertIn("churn period", str(error.exception))
        with self.assertRaises(ValidationError) as error:
            self.company.retention_bonus_per_reactivated = -5.0
        self.assertIn("negative", str(error.exception))

    def test_other_companies_and_no_data(self):
        self.Month._rebuild_company(self.company, as_of=AS_OF)
        self.assertFalse(self.Month.search_count([("partner_id", "=", self.eve.id)]))
        self.assertEqual(self.Month._rebuild_company(self.other_company, as_of=AS_OF), 4)
        eve = self.Month.search([("partner_id", "=", self.eve.id)])
        self.assertEqual(eve.company_id, self.other_company)
        # A manager of the first company only sees its rows.
        self.manager.write({"company_ids": [Command.set(self.company.ids)]})
        self.assertFalse(
            self.Month.with_user(self.manager).search_count([("partner_id", "=", self.eve.id)])
        )
        empty = self.env["res.company"].create({"name": "Dashboard Empty Co"})
        self.assertEqual(self.Month._rebuild_company(empty, as_of=AS_OF), 0)
        self.assertFalse(self.Month._read_group([("company_id", "=", empty.id)], ["month:month"]))
        with freeze_time("2026-06-15"):
            self.assertFalse(self.Scorecard._compute_period(empty, "month", date(2026, 5, 1)))

    def test_one_rebuild_of_a_company_at_a_time(self):
        with self.env.registry.cursor() as other_cr:
            other_cr.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", (REBUILD_LOCK, self.company.id)
            )
            with self.assertRaises(UserError) as error:
                self.Month._rebuild_company(self.company, as_of=AS_OF)
            self.assertIn("being rebuilt right now", str(error.exception))
            # The cron leaves it to the other rebuild and stops for now.
            self.company.retention_dashboard_requested = True  # first in line
            with freeze_time("2026-06-15 06:00:00"):
                self.Month._cron_rebuild()
            self.assertFalse(self.company.retention_dashboard_last_run)
            other_cr.rollback()
        self.assertEqual(self.Month._rebuild_company(self.company, as_of=AS_OF), 27)

    def test_a_failing_company_does_not_hold_the_others_back(self):
        # Definitions broken behind the ORM's back: the rebuild refuses them.
        self.env.cr.execute(
            "UPDATE res_company SET retention_active_days = 0 WHERE id = %s", [self.company.id]
        )
        self.company.invalidate_recordset()
        self.company.retention_dashboard_requested = True
        companies = self.env["res.company"].search([])
        with freeze_time("2026-06-15 06:00:00"):
            with self.assertLogs(
                "odoo.addons.retention_loyalty.models.retention_customer_month", "ERROR"
            ):
                self.Month._cron_rebuild()
            self.assertEqual(
                self.company.retention_dashboard_failed_on, datetime(2026, 6, 15, 6, 0)
            )
            self.assertTrue(self.company._retention_dashboard_stale())
            for _company in companies:
                self.Month._cron_rebuild()
            self.assertEqual(
                self.other_company.retention_dashboard_last_run, datetime(2026, 6, 15, 6, 0)
            )
            self.assertFalse(self.company.retention_dashboard_last_run)
        with freeze_time("2026-06-15"), self.assertRaises(UserError) as error:
            self.Scorecard._compute_period(self.company, "month", date(2026, 5, 1))
        self.assertIn("at least one day", str(error.exception))

    def test_rebuild_queries_do_not_grow_with_customers(self):
        def rebuild(budget):
            # A rebuild writes its run on the company, unless it is the same
            # second as the last one: a pending request makes that write sure.
            self.company.retention_dashboard_requested = True
            self.env.flush_all()
            self.env.invalidate_all()
            with self.assertQueryCount(budget):
                before = self.env.cr.sql_log_count
                self.Month._rebuild_company(self.company, as_of=AS_OF)
                self.env.flush_all()
                return self.env.cr.sql_log_count - before

        self.Month._rebuild_company(self.company, as_of=AS_OF)  # warm-up
        few = rebuild(6)
        more = self.env["res.partner"].create([{"name": f"Dashboard More {i}"} for i in range(8)])
        for partner in more:
            make_order(self.env, partner, self.product, 70.0, date(2026, 4, 1))
        self.assertEqual(rebuild(6), few)

    @freeze_time("2026-06-15")
    def test_april_scorecards_by_order_salesperson(self):
        # Fay bought 1,000 in March and 1,500 in April: 900 with S1, 600 with S2.
        # Gus shrank from 500 to 300 (S2). Ann churned in April (S1, lost 100:
        # below the 150 high-value threshold).
        self.env["retention.customer.stat"]._recompute_company(self.company, today=AS_OF)
        self.s2.active = False  # archived since: still scored
        cards = self.Scorecard._compute_period(self.company, "month", date(2026, 4, 17))
        s1 = cards.filtered(lambda c: c.user_id == self.s1)
        s2 = cards.filtered(lambda c: c.user_id == self.s2)
        self.assertEqual((s1.date_start, s1.date_end), (date(2026, 4, 1), date(2026, 4, 30)))
        self.assertEqual(s1.revenue, 900.0)
        self.assertEqual(s1.retained_revenue, 900.0)
        self.assertAlmostEqual(s1.expansion_revenue, 300.0)  # 500 growth x 900 / 1,500
        self.assertEqual((s1.churned_count, s1.high_value_churned_count), (1, 0))
        self.assertEqual(s1.revenue_lost, 100.0)
        self.assertAlmostEqual(s1.bonus, 30.0)
        self.assertEqual(s2.retained_revenue, 900.0)  # Fay 600 + Gus 300
        self.assertAlmostEqual(s2.expansion_revenue, 200.0)
        self.assertAlmostEqual(s2.bonus, 20.0)
        self.assertEqual(s2.churned_count, 0)
        fay_line = s2.line_ids.filtered(lambda line: line.partner_id == self.fay)
        self.assertEqual((fay_line.revenue, fay_line.revenue_previous), (600.0, 1000.0))
        # Portfolio at the end of April: Cleo with S1; Ben, Fay and Gus with S2.
        stats = self.env["retention.customer.stat"].search([("company_id", "=", self.company.id)])
        risk = {stat.partner_id: (1 - stat.p_alive) * 100 for stat in stats}
        self.assertEqual(s1.portfolio_count, 1)
        self.assertAlmostEqual(s1.portfolio_risk, risk[self.cleo], places=4)
        self.assertEqual(s2.portfolio_count, 3)
        self.assertAlmostEqual(
            s2.portfolio_risk,
            (risk[self.ben] + risk[self.fay] + risk[self.gus]) / 3,
            places=4,
        )

    @freeze_time("2026-06-15")
    def test_reactivation_and_churn_bonus_and_approval(self):
        february = self.Scorecard._compute_period(self.company, "month", date(2026, 2, 1))
        s1 = february.filtered(lambda c: c.user_id == self.s1)
        self.assertEqual((s1.reactivated_count, s1.retained_revenue), (1, 0.0))
        self.assertEqual((s1.bonus_reactivation, s1.bonus), (50.0, 50.0))
        may = self.Scorecard._compute_period(self.company, "month", date(2026, 5, 1))
        s1_may = may.filtered(lambda c: c.user_id == self.s1)
        # Cleo churned in May, lost 250 >= 150: penalty 80, bonus floored at zero.
        self.assertEqual((s1_may.high_value_churned_count, s1_may.churn_penalty), (1, 80.0))
        self.assertEqual(s1_may.bonus, 0.0)
        # Approved scorecards survive a new computation; drafts are replaced.
        s1.action_approve()
        self.company.retention_bonus_per_reactivated = 70.0
        again = self.Scorecard._compute_period(self.company, "month", date(2026, 2, 1))
        self.assertIn(s1, again)
        self.assertEqual(s1.bonus, 50.0)
        quarter = self.Scorecard._compute_period(self.company, "quarter", date(2026, 2, 1))
        self.assertEqual(set(quarter.mapped("date_start")), {date(2026, 1, 1)})
        self.assertEqual(set(quarter.mapped("date_end")), {date(2026, 3, 31)})
        with self.assertRaisesRegex(Exception, "Approved scorecards"):
            s1.unlink()
        with self.assertRaisesRegex(Exception, "hasn't begun"):
            self.Scorecard._compute_period(self.company, "month", date(2026, 7, 1))

    @freeze_time("2026-06-15")
    def test_follow_ups_on_the_scorecard(self):
        call = self.env.ref("mail.mail_activity_data_call")
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Dashboard check-in",
                "trigger": "order_confirmed",
                "control_percent": 0,
                "action_ids": [Command.create({"kind": "activity", "activity_type_id": call.id})],
            }
        )

        def followup(user, deadline):
            activity = self.env["mail.activity"].create(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": self.fay.id,
                    "activity_type_id": call.id,
                    "user_id": user.id,
                    "date_deadline": deadline,
                    "retention_playbook_id": playbook.id,
                }
            )
            self.env["retention.playbook.run"].create(
                {
                    "playbook_id": playbook.id,
                    "partner_id": self.fay.id,
                    "date": deadline,
                    "state": "open",
                    "activity_id": activity.id,
                }
            )
            return activity

        followup(self.s1, date(2026, 4, 1))  # overdue
        followup(self.s1, date(2026, 6, 20))
        done = followup(self.s2, date(2026, 4, 10))
        with freeze_time("2026-04-11"):
            done.action_done()
        run = self.env["retention.playbook.run"].search(
            [("activity_done_user_id", "=", self.s2.id)]
        )
        self.assertEqual(run.activity_done_date, date(2026, 4, 11))
        cards = self.Scorecard._compute_period(self.company, "month", date(2026, 4, 1))
        s1 = cards.filtered(lambda c: c.user_id == self.s1)
        s2 = cards.filtered(lambda c: c.user_id == self.s2)
        self.assertEqual(
            (s1.followup_open_count, s1.followup_overdue_count, s1.followup_done_count), (2, 1, 0)
        )
        self.assertEqual(
            (s2.followup_open_count, s2.followup_overdue_count, s2.followup_done_count), (0, 0, 1)
        )

    @freeze_time("2026-06-15")
    def test_administrator_computes_a_period_with_the_wizard(self):
        wizard = (
            self.env["retention.scorecard.compute.wizard"]
            .with_user(self.manager)
            .create({"period_kind": "quarter", "date": date(2026, 5, 20)})
        )
        self.assertEqual(
            (wizard.date_start, wizard.date_end), (date(2026, 4, 1), date(2026, 6, 30))
        )
        action = wizard.action_compute()
        cards = self.Scorecard.search(action["domain"])
        self.assertEqual(cards.user_id, self.s1 | self.s2)
        self.assertEqual(set(cards.mapped("period_kind")), {"quarter"})
        # Q2 against Q1: Fay 1,500 (S1 900 + S2 600) vs 1,000 -> growth 500 shared
        # 3:2; Gus 300 vs 500; Ben churned in June (lost 500 >= 150: S2 penalised).
        s1 = cards.filtered(lambda c: c.user_id == self.s1)
        s2 = cards.filtered(lambda c: c.user_id == self.s2)
        self.assertAlmostEqual(s1.expansion_revenue, 300.0)
        self.assertAlmostEqual(s2.expansion_revenue, 200.0)
        self.assertEqual((s2.high_value_churned_count, s2.churn_penalty), (1, 80.0))
        self.assertAlmostEqual(s2.bonus, 0.0)  # 20 - 80, floored
        self.assertEqual((s1.churned_count, s1.high_value_churned_count), (2, 1))  # Ann, Cleo

    @freeze_time("2026-06-15")
    def test_wizard_recomputes_a_period_that_has_drafts_and_keeps_approved_ones(self):
        first = self.Scorecard._compute_period(self.company, "month", date(2026, 4, 1))
        approved = first.filtered(lambda c: c.user_id == self.s1)
        approved.action_approve()
        draft = first - approved
        wizard = (
            self.env["retention.scorecard.compute.wizard"]
            .with_user(self.manager)
            .create({"period_kind": "month", "date": date(2026, 4, 10)})
        )
        cards = self.Scorecard.search(wizard.action_compute()["domain"])
        self.assertEqual(cards.user_id, self.s1 | self.s2)
        self.assertIn(approved, cards)
        self.assertFalse(draft.exists(), "the draft is replaced by the new computation")

    @freeze_time("2026-06-15")
    def test_salesperson_sees_only_their_scorecard(self):
        self.Scorecard._compute_period(self.company, "month", date(2026, 4, 1))
        self.env.flush_all()
        mine = self.Scorecard.with_user(self.s1).search([])
        self.assertEqual(mine.user_id, self.s1)
        self.assertTrue(mine.with_user(self.s1).line_ids)
        self.assertEqual(self.Scorecard.with_user(self.s1).search([]).line_ids.user_id, self.s1)
        self.assertEqual(len(self.Scorecard.with_user(self.manager).search([])), 2)
        with self.assertRaises(AccessError):
            self.Month.with_user(self.s1).search([])
        with self.assertRaises(AccessError):
            mine.with_user(self.s1).action_approve()
        # The scorecards of another company stay out of sight.
        self.manager.write(
            {
                "company_ids": [Command.set(self.other_company.ids)],
                "company_id": self.other_company.id,
            }
        )
        self.assertFalse(self.Scorecard.with_user(self.manager).search([]))

    @freeze_time("2026-06-15")
    def test_salesperson_sees_their_month_to_date_scorecard(self):
        # June so far: Fay bought 400 with S1; Ben churned on 3 June, his last
        # order was S2's (lost 500 >= 150: penalty 80).
        make_order(self.env, self.fay, self.product, 400.0, date(2026, 6, 10), user_id=self.s1.id)
        drafts = self.Scorecard._compute_period(self.company, "month", date(2026, 6, 1))
        s2_draft = drafts.filtered(lambda card: card.user_id == self.s2)
        as_s1 = self.Scorecard.with_user(self.s1).with_context(
            default_user_id=self.s2.id, default_state="approved"
        )
        action = as_s1.action_month_to_date()
        mine = as_s1.browse(action["res_id"])
        self.assertRecordValues(
            mine,
            [
                {
                    "user_id": self.s1.id,
                    "period_kind": "month",
                    "date_start": date(2026, 6, 1),
                    "date_end": date(2026, 6, 30),
                    "revenue": 400.0,
                    "state": "draft",
                }
            ],
        )
        self.assertTrue(s2_draft.exists(), "another salesperson's scorecard is left alone")
        self.assertEqual(as_s1.search([]).user_id, self.s1, "a salesperson sees only their own")
        theirs = self.Scorecard.with_user(self.s2).browse(
            self.Scorecard.with_user(self.s2).action_month_to_date()["res_id"]
        )
        self.assertRecordValues(
            theirs,
            [
                {
                    "user_id": self.s2.id,
                    "churned_count": 1,
                    "high_value_churned_count": 1,
                    "revenue_lost": 500.0,
                    "churn_penalty": 80.0,
                    "bonus": 0.0,
                }
            ],
        )
        with self.assertRaises(AccessError):
            mine.action_approve()
        outsider = new_test_user(self.env, login="rl_dash_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.Scorecard.with_user(outsider).action_month_to_date()

    def test_crons_handle_one_company_per_call_until_all_are_done(self):
        companies = self.env["res.company"].search([])
        with freeze_time("2026-06-15 06:00:00"):
            for _company in companies:
                self.Month._cron_rebuild()
            self.assertTrue(all(companies.mapped("retention_dashboard_last_run")))
            self.assertEqual(self.Month.search_count([("company_id", "=", self.company.id)]), 27)
            with self.assertQueryCount(1):
                self.Month._cron_rebuild()  # nothing left today: no rebuild
        # The scorecard cron computes last month once per company.
        with freeze_time("2026-06-15 07:00:00"):
            for _company in companies:
                self.Scorecard._cron_compute_last_month()
            self.assertEqual(self.company.retention_scorecard_last_month, date(2026, 5, 1))
            may = self.Scorecard.search(
                [("company_id", "=", self.company.id), ("date_start", "=", date(2026, 5, 1))]
            )
            self.assertEqual(may.user_id, self.s1 | self.s2)
            self.Scorecard._cron_compute_last_month()
            self.assertEqual(len(self.Scorecard.search([("company_id", "=", self.company.id)])), 2)
