from datetime import timedelta

from odoo.tests import freeze_time, tagged

from .common import TODAY, RetentionCase


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestRiskConsistency(RetentionCase):
    """Risk level, P(alive), value at stake and next order as stored and
    shown never contradict each other (issue 15, readme/USAGE.md)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 40 customers ordering every 30 days: enough for the statistical model.
        cls.regulars = cls._regular_customers(40, user_id=cls.salesman.id)
        # Two orders a day apart, the last one a week ago ("Lost, P(alive) 98 %").
        cls.quick = cls._customer("Two quick orders", user_id=cls.salesman.id)
        cls._orders(cls.quick, [8, 7], amount=120.0)
        # Every 52 days, the last order 198 days ago ("next order next March").
        cls.lapsed = cls._customer("Lapsed rhythm", user_id=cls.salesman.id)
        cls._orders(cls.lapsed, range(198 + 6 * 52, 197, -52), amount=90.0)
        # One order of 400, 150 days ago ("High, P(alive) 100 %, value at stake 0").
        cls.once = cls._customer("Once, long ago", user_id=cls.salesman.id)
        cls._orders(cls.once, [150], amount=400.0)
        cls.once_recent = cls._customer("Once, last week", user_id=cls.salesman.id)
        cls._orders(cls.once_recent, [6], amount=70.0)

    def test_the_figures_shown_together_agree(self):
        self._recompute(full=True)
        fit = self.Stat._current_fit(self.company)
        self.assertEqual(fit.method, "bgnbd", fit.note)
        stats = self.Stat.search([("company_id", "=", self.company.id)])
        self.assertEqual(len(stats), 44)
        for stat in stats:
            name = stat.partner_id.name
            # Lifetime value and value at stake are the two parts of the value if they stay.
            self.assertLessEqual(stat.value_at_stake, stat.value_if_retained + 0.01, name)
            self.assertAlmostEqual(
                stat.clv + stat.value_at_stake, stat.value_if_retained, delta=0.02, msg=name
            )
            due = stat.last_order_date + timedelta(days=-(-stat.usual_gap_days // 1))
            if stat.days_since_last_order <= stat.usual_gap_days:
                self.assertIn(stat.risk_level, ("low", "medium"), f"{name} is not late")
                self.assertFalse(stat.overdue_since, name)
                if stat.expected_next_order_date:
                    self.assertEqual(stat.expected_next_order_date, max(due, TODAY), name)
            else:
                self.assertNotEqual(stat.risk_level, "low", f"{name} is late")
                self.assertFalse(stat.expected_next_order_date, f"{name}: no promise")
                self.assertEqual(stat.overdue_since, due, name)
                self.assertLessEqual(stat.overdue_since, TODAY, name)
            if stat.risk_level in ("high", "lost"):
                self.assertLess(stat.p_alive, 0.6, name)

    def test_the_customers_seen_on_screen(self):
        self._recompute(full=True)
        fit = self.Stat._current_fit(self.company)
        # The regulars' gaps to their second order are 30 days.
        self.assertEqual(fit.typical_second_order_gap_days, 30.0)

        quick = self._stat(self.quick)
        # One gap of a day weighs as much as the company's typical 30 days.
        self.assertEqual(quick.usual_gap_days, (1.0 + fit.typical_gap_days) / 2)
        self.assertEqual(quick.risk_level, "low")

        lapsed = self._stat(self.lapsed)
        self.assertEqual(lapsed.days_since_last_order, 198)
        self.assertEqual(lapsed.median_gap_days, 52.0)
        # Six gaps of 52 and the typical 30 as a seventh.
        self.assertEqual(lapsed.usual_gap_days, round((6 * 52 + fit.typical_gap_days) / 7, 2))
        self.assertIn(lapsed.risk_level, ("high", "lost"))
        self.assertFalse(lapsed.expected_next_order_date)
        overdue_since = TODAY - timedelta(days=198) + timedelta(days=49)
        self.assertEqual(lapsed.overdue_since, overdue_since)

        once = self._stat(self.once)
        self.assertEqual(once.usual_gap_days, 30.0)
        self.assertEqual(once.overdue_ratio, 5.0)
        self.assertLess(once.p_alive, 0.1, "150 days without the second order due after 30")
        self.assertEqual(once.risk_level, "lost")
        self.assertGreater(once.value_at_stake, 0.0)

        once_recent = self._stat(self.once_recent)
        self.assertEqual(once_recent.risk_level, "low")
        self.assertEqual(once_recent.expected_next_order_date, TODAY + timedelta(days=24))

        # The reason, on the customer's Retention tab as their salesperson sees it.
        partner = self.lapsed.with_user(self.salesman)
        self.assertEqual(
            partner.retention_risk_reason,
            "198 days since the last order; usually 49. Overdue since 02/01/2026.",
        )
        self.assertEqual(
            self.once.with_user(self.salesman).retention_risk_reason,
            "One order, 150 days ago; a second order usually follows within 30 days. "
            "Overdue since 03/02/2026.",
        )
