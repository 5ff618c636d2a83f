"""Playbook ROI and the model fit's calibration table, with figures computed
here by hand from the orders the tests create."""

import math
import statistics
from datetime import date, datetime, time, timedelta

from scipy import stats

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, new_test_user, tagged

from .common import TODAY, RetentionCase

RUN_DAY = date(2026, 3, 2)
WINDOW = 30  # days after the run: up to April 1st


def welch(reached, control):
    """95 % Welch interval of mean(reached) - mean(control), written out."""
    a = statistics.variance(reached) / len(reached)
    b = statistics.variance(control) / len(control)
    df = (a + b) ** 2 / (a * a / (len(reached) - 1) + b * b / (len(control) - 1))
    half = stats.t.ppf(0.975, df) * math.sqrt(a + b)
    difference = statistics.mean(reached) - statistics.mean(control)
    return difference, difference - half, difference + half


@tagged("post_install", "-at_install")
class TestPlaybookRoi(RetentionCase):
    """Per customer below: the untaxed price of the one order they placed
    within the window (None: no order) and, for reached customers, the
    incentive cost their run handed out. The coffee costs 30 (standard
    price), so an order of 100 leaves a margin of 70."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coffee = cls.env["product.product"].create(
            {
                "name": "ROI Coffee",
                "list_price": 100.0,
                "standard_price": 30.0,
                "taxes_id": [Command.clear()],
                "type": "consu",
            }
        )
        cls.gift = cls.env["product.product"].create(
            {"name": "ROI Gift Card (no cost)", "list_price": 20.0, "type": "service"}
        )
        cls.manager = new_test_user(
            cls.env,
            login="rl_roi_manager",
            groups="sales_team.group_sale_salesman,retention_loyalty.group_retention_manager",
        )
        cls.retention_user = new_test_user(
            cls.env,
            login="rl_roi_user",
            groups="sales_team.group_sale_salesman,retention_loyalty.group_retention_user",
        )

    def _playbook(self, name, control_percent=20):
        return self.env["retention.playbook"].create(
            {
                "name": name,
                "trigger": "overdue",
                "control_percent": control_percent,
                "effect_window_days": WINDOW,
                "action_ids": [
                    Command.create(
                        {
                            "kind": "activity",
                            "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                        }
                    )
                ],
            }
        )

    def _order(self, partner, price, day, product=None):
        product = product or self.coffee
        return self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "date_order": datetime.combine(day, time(10)),
                "state": "sale",
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": 1,
                            "price_unit": price,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )

    def _runs(self, playbook, reached, control):
        """Runs of ``playbook`` on RUN_DAY: ``reached`` as (price, cost),
        ``control`` as prices, each for a new customer who orders once at that
        price 10 days later (None: no order)."""
        rows = [(price, cost, False) for price, cost in reached]
        rows += [(price, 0.0, True) for price in control]
        partners = self.env["res.partner"].create(
            [{"name": f"{playbook.name} {index}"} for index in range(len(rows))]
        )
        self.env["retention.playbook.run"].create(
            [
                {
                    "playbook_id": playbook.id,
                    "partner_id": partner.id,
                    "date": RUN_DAY,
                    "state": "control" if in_control else "done",
                    "in_control": in_control,
                    "incentive_cost": cost,
                }
                for partner, (_price, cost, in_control) in zip(partners, rows, strict=True)
            ]
        )
        for partner, (price, _cost, _in_control) in zip(partners, rows, strict=True):
            if price is not None:
                self._order(partner, price, RUN_DAY + timedelta(days=10))
        return partners

    def _roi(self, playbook, user=None):
        self.env.flush_all()
        Roi = self.env["retention.playbook.roi"].with_user(user or self.manager)
        return Roi.search([("playbook_id", "=", playbook.id)])

    @freeze_time(TODAY)
    def test_roi_figures_by_hand(self):
        playbook = self._playbook("Unclear")
        partners = self._runs(
            playbook,
            reached=[(100.0, 5.0), (130.0, 5.0), (60.0, 5.0), (None, 5.0)],
            control=[40.0, None, None],
        )
        # Outside the window (31 days after the run) and the gift card without a
        # cost: the first counts nowhere, the second as revenue without margin.
        self._order(partners[5], 500.0, RUN_DAY + timedelta(days=WINDOW + 1))
        self._order(partners[3], 20.0, RUN_DAY + timedelta(days=3), product=self.gift)
        reached_revenue = [100.0, 130.0, 60.0, 20.0]
        reached_margin = [70.0, 100.0, 30.0, 0.0]
        reached_net = [m - 5.0 for m in reached_margin]
        control_revenue = [40.0, 0.0, 0.0]
        control_margin = [10.0, 0.0, 0.0]
        roi = self._roi(playbook)
        self.assertRecordValues(
            roi,
            [
                {
                    "reached": 4,
                    "control": 3,
                    "reached_reordered": 4,
                    "control_reordered": 1,
                    "reached_rate": 1.0,
                    "has_control": True,
                    "verdict": "not_enough_data",
                }
            ],
        )
        self.assertAlmostEqual(roi.control_rate, 1 / 3)
        self.assertAlmostEqual(roi.reached_revenue_mean, 77.5)
        self.assertAlmostEqual(roi.control_margin_mean, 10 / 3, delta=0.005)
        self.assertAlmostEqual(roi.cost_per_reached, 5.0)
        # Net return: (70 + 100 + 30 + 0) / 4 - 5 - 10 / 3 = 41.67 per reached customer.
        self.assertAlmostEqual(roi.net_return, 50.0 - 5.0 - 10 / 3, delta=0.005)
        # Amounts are monetary: rounded to the cent when shown.
        for field, reached, control in (
            ("revenue", reached_revenue, control_revenue),
            ("margin", reached_margin, control_margin),
            ("net", reached_net, control_margin),
        ):
            difference, low, high = welch(reached, control)
            if field != "net":
                self.assertAlmostEqual(roi[f"{field}_difference"], difference, delta=0.005)
            self.assertAlmostEqual(roi[f"{field}_low"], low, delta=0.005, msg=field)
            self.assertAlmostEqual(roi[f"{field}_high"], high, delta=0.005, msg=field)
        self.assertLess(roi.net_low, 0)
        self.assertGreater(roi.net_high, 0)
        # Customers needed: (1.96 + 0.84)^2 (s_r^2 / k + s_c^2) / d^2 control
        # customers, k = 4/3 times as many reached, less the 7 there are.
        z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
        d = statistics.mean(reached_net) - statistics.mean(control_margin)
        control_needed = (
            z**2
            * (statistics.variance(reached_net) / (4 / 3) + statistics.variance(control_margin))
            / d**2
        )
        needed = math.ceil(control_needed * (1 + 4 / 3)) - 7
        self.assertEqual(needed, 9)
        self.assertEqual(roi.customers_needed, needed)
        self.assertEqual(roi.verdict_text, "Not enough data yet (needs about 9 more customers).")
        # Reorder rate: Newcombe's interval of 4/4 - 1/3, from the Wilson bounds.
        wilson_reached = stats.binomtest(4, 4).proportion_ci(method="wilson")
        wilson_control = stats.binomtest(1, 3).proportion_ci(method="wilson")
        self.assertAlmostEqual(
            roi.rate_low,
            (1 - 1 / 3) - math.hypot(1 - wilson_reached.low, wilson_control.high - 1 / 3),
        )
        self.assertAlmostEqual(
            roi.rate_high,
            (1 - 1 / 3) + math.hypot(0.0, 1 / 3 - wilson_control.low),
        )

    @freeze_time(TODAY)
    def test_verdicts_and_the_list_order(self):
        pays = self._playbook("Pays")
        self._runs(
            pays,
            reached=[(100.0, 5.0), (100.0, 5.0), (130.0, 5.0), (130.0, 5.0)],
            control=[None, None, 40.0],
        )
        costs = self._playbook("Costs")
        self._runs(costs, reached=[(None, 50.0)] * 3, control=[None, None, 40.0])
        off = self._playbook("Off", control_percent=0)
        self._runs(off, reached=[(100.0, 5.0)] * 3, control=[])
        one = self._playbook("One control customer", control_percent=10)
        self._runs(one, reached=[(100.0, 5.0)] * 3, control=[40.0])
        waiting = self._playbook("Still in its window")
        self.env["retention.playbook.run"].create(
            {
                "playbook_id": waiting.id,
                "partner_id": self.env["res.partner"].create({"name": "Recent"}).id,
                "date": TODAY - timedelta(days=5),
                "state": "done",
            }
        )
        playbooks = pays | costs | off | one | waiting
        self.env.flush_all()
        rois = (
            self.env["retention.playbook.roi"]
            .with_user(self.manager)
            .search([("playbook_id", "in", playbooks.ids)])
        )
        # Ordered by net return, the best first; no figure last.
        self.assertEqual(rois.playbook_id, pays | costs | off | one)
        self.assertEqual(
            rois.mapped("verdict"), ["pays_off", "costs_more", "no_control", "too_few"]
        )
        roi_pays, roi_costs, roi_off, roi_one = rois
        # Pays: net [65, 65, 95, 95] against margins [0, 0, 10].
        net, low, high = welch([65.0, 65.0, 95.0, 95.0], [0.0, 0.0, 10.0])
        self.assertAlmostEqual(roi_pays.net_return, net, delta=0.005)
        self.assertAlmostEqual(roi_pays.net_low, low, delta=0.005)
        self.assertGreater(roi_pays.net_low, 0)
        self.assertIn("Pays off", roi_pays.verdict_text)
        # Costs: 50 handed out to each of 3 customers who did not order.
        _net, _low, high = welch([-50.0, -50.0, -50.0], [0.0, 0.0, 10.0])
        self.assertAlmostEqual(roi_costs.net_return, -50.0 - 10 / 3, delta=0.005)
        self.assertAlmostEqual(roi_costs.net_high, high, delta=0.005)
        self.assertLess(roi_costs.net_high, 0)
        self.assertIn("Costs more than it brings", roi_costs.verdict_text)
        # Without a control group there is nothing to compare with: no figure.
        self.assertFalse(roi_off.has_control)
        self.assertFalse(roi_off.net_return)
        self.assertFalse(roi_off.net_low)
        self.assertIn("keeps no control group", roi_off.verdict_text)
        self.assertEqual(roi_off.reached_rate, 1.0, "what is known is still shown")
        self.assertEqual(
            roi_one.verdict_text,
            "No ROI yet: it needs at least 2 reached and 2 control customers whose effect "
            "window has passed (now 3 reached, 1 in the control group).",
        )
        self.assertFalse(roi_one.net_return)
        # The playbook form shows the same, and nothing for a window still open.
        forms = playbooks.with_user(self.manager)
        self.assertEqual(forms[0].roi_verdict, "pays_off")
        self.assertEqual(forms[0].roi_net_low, roi_pays.net_low)
        self.assertEqual(forms[0].roi_cost_per_reached, 5.0)
        self.assertFalse(forms[4].roi_id)
        self.assertFalse(forms[4].roi_verdict)

    @freeze_time(TODAY)
    def test_only_retention_administrators_see_the_return(self):
        playbook = self._playbook("Secret")
        self._runs(playbook, reached=[(100.0, 5.0)] * 2, control=[None, None])
        self.assertTrue(self._roi(playbook))
        with self.assertRaises(AccessError):
            self._roi(playbook, user=self.retention_user)
        # The playbook form of a retention user does not carry the figures.
        form = playbook.with_user(self.retention_user)
        self.assertNotIn("roi_verdict", form.fields_get(attributes=["type"]))
        self.assertEqual(form.name, "Secret")


@tagged("post_install", "-at_install")
class TestModelCalibration(RetentionCase):
    """The calibration table stored with a fit: customers by their repeat
    purchases before the holdout window (180 days), and their purchases in it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 40 regulars buying every 30 days for two years, so the model fits.
        cls.regulars = cls._regular_customers(40)
        # Few repeat purchases before the window, some in it.
        cls.once_then_twice = cls._customer("Once, then twice")
        cls._orders(cls.once_then_twice, [400, 100, 20])
        cls.twice_then_none = cls._customer("Twice, then none")
        cls._orders(cls.twice_then_none, [500, 300, 250])
        cls.once_only = cls._customer("Once only")
        cls._orders(cls.once_only, [200])
        cls.late = cls._customer("First order in the window")
        cls._orders(cls.late, [90, 30])

    def test_calibration_table_is_stored_with_the_fit(self):
        with freeze_time(TODAY):
            self._recompute(full=True)
        fit = self.Stat._current_fit(self.company)
        self.assertEqual(fit.method, "bgnbd", fit.note)
        end = TODAY - timedelta(days=180)
        before, after = {}, {}
        for order in self.env["sale.order"].search([("state", "=", "sale")]):
            day = order.date_order.date()
            partner = order.partner_id.commercial_partner_id
            (before if day <= end else after).setdefault(partner, set()).add(day)
        # By hand: who was a customer at the end of the calibration period, and
        # how many repeat purchases (days) each made before and in the window.
        expected = {}
        for partner, days in before.items():
            bucket = min(len(days) - 1, 7)
            expected.setdefault(bucket, []).append(len(after.get(partner, ())))
        self.assertNotIn(self.late, before, "a customer of the window is not in the check")
        self.assertEqual(len(before[self.once_then_twice]), 1)
        self.assertEqual(len(after[self.once_then_twice]), 2)
        rows = fit.calibration_ids
        self.assertEqual(rows.mapped("repeat_purchases"), sorted(expected))
        self.assertEqual(rows[-1].bucket, "7+")
        self.assertTrue(rows[-1].open_ended)
        for row in rows:
            actual = expected[row.repeat_purchases]
            self.assertEqual(row.customers, len(actual), row.bucket)
            self.assertAlmostEqual(row.actual_average, statistics.mean(actual), places=3)
        self.assertEqual(sum(rows.mapped("customers")), fit.holdout_customers)
        self.assertEqual(
            sum(row.customers * row.actual_average for row in rows), fit.holdout_actual
        )
        self.assertAlmostEqual(
            sum(row.customers * row.predicted_average for row in rows),
            fit.holdout_predicted,
            delta=0.05 + 0.0005 * fit.holdout_customers,  # rounded to 0.1 and 0.001
        )
        self.assertTrue(-1 <= fit.holdout_correlation <= 1)
        self.assertGreater(fit.holdout_correlation, 0.3, "regulars keep buying, the once-only not")
        # The chart shows each row twice: actual and predicted, side by side.
        chart = self.env["retention.model.fit.calibration.chart"].search([("fit_id", "=", fit.id)])
        self.assertEqual(len(chart), 2 * len(rows))
        last = chart.filtered(lambda point: point.bucket == "7+")
        self.assertEqual(sorted(last.mapped("series")), ["actual", "predicted"])
        self.assertAlmostEqual(
            last.filtered(lambda point: point.series == "predicted").purchases,
            rows[-1].predicted_average,
            places=3,
        )
        action = fit.action_view_calibration_chart()
        self.assertEqual(action["domain"], [("fit_id", "=", fit.id)])
        self.assertEqual(action["res_model"], "retention.model.fit.calibration.chart")
