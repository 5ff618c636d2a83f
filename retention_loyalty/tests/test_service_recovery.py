from datetime import date, timedelta

from freezegun import freeze_time

from odoo.tests import TransactionCase, new_test_user, tagged

from .common import RetentionCase, make_order, make_playbook, make_product

TODAY = date(2026, 6, 30)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestServiceRecoveryTriggers(TransactionCase):
    """Service failures start playbooks: an invoice overdue for N days (once
    per invoice), a quotation cancelled or left to expire."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.salesman = new_test_user(
            cls.env, login="rl_recovery_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.product = make_product(cls.env, "Recovery Beans", 30.0)
        cls.product.invoice_policy = "order"
        cls.customer, cls.other = cls.env["res.partner"].create(
            [
                {"name": "Recovery Customer", "user_id": cls.salesman.id},
                {"name": "Recovery Other", "user_id": cls.salesman.id},
            ]
        )

    def _invoice(self, partner, due):
        order = make_order(self.env, partner, self.product, 120.0)
        invoice = order._create_invoices()
        invoice.invoice_date_due = due
        invoice.action_post()
        invoice.invoice_date_due = due  # posting recomputes it from the payment terms
        return invoice

    def test_an_invoice_overdue_for_n_days_triggers_once(self):
        playbook = make_playbook(self.env, "invoice_overdue", trigger_days=7)
        self._invoice(self.customer, TODAY - timedelta(days=7))
        self._invoice(self.other, TODAY - timedelta(days=3))  # not yet 7 days
        self.assertEqual(set(playbook._candidates(TODAY)), {self.customer.id})
        playbook._evaluate(TODAY)
        tomorrow = TODAY + timedelta(days=1)
        self.assertEqual(set(playbook._candidates(tomorrow)), set(), "once per invoice")

    def test_a_paid_invoice_is_not_overdue(self):
        playbook = make_playbook(self.env, "invoice_overdue", trigger_days=7)
        invoice = self._invoice(self.customer, TODAY - timedelta(days=7))
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(set(playbook._candidates(TODAY)), set())

    def test_days_missed_while_the_cron_was_down_are_caught_up(self):
        playbook = make_playbook(self.env, "invoice_overdue", trigger_days=7)
        playbook.last_evaluated = TODAY - timedelta(days=3)
        self._invoice(self.customer, TODAY - timedelta(days=9))  # 7 days overdue two days ago
        self.assertEqual(set(playbook._candidates(TODAY)), {self.customer.id})

    def test_cancelled_and_expired_quotations_start_a_recovery_playbook(self):
        playbook = make_playbook(self.env, "quotation_lost")
        cancelled = make_order(self.env, self.customer, self.product, 80.0, confirm=False)
        cancelled._action_cancel()
        self.assertEqual(cancelled.retention_cancelled_on, TODAY)
        expired = make_order(
            self.env,
            self.other,
            self.product,
            50.0,
            confirm=False,
            validity_date=TODAY - timedelta(days=1),
        )
        still_valid = make_order(
            self.env,
            self.env["res.partner"].create({"name": "Recovery Patient"}),
            self.product,
            50.0,
            confirm=False,
            validity_date=TODAY,
        )
        candidates = playbook._candidates(TODAY)
        self.assertEqual(candidates, {self.customer.id: cancelled.id, self.other.id: expired.id})
        self.assertNotIn(still_valid.partner_id.id, candidates)
        runs = playbook._evaluate(TODAY)
        self.assertEqual(
            {(run.partner_id, run.order_id) for run in runs},
            {(self.customer, cancelled), (self.other, expired)},
        )
        # Tomorrow: nothing twice; the quotation valid today has expired then.
        self.assertEqual(
            playbook._candidates(TODAY + timedelta(days=1)),
            {still_valid.partner_id.id: still_valid.id},
        )


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestServiceSignalsRaiseRisk(RetentionCase):
    """A service failure of the last 90 days raises a customer's risk one
    level, says so in the reason and in the segment history."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A service: no delivery that the deliveries bridge could find late.
        cls.product.write({"type": "service", "invoice_policy": "order"})
        cls._regular_customers(12)
        cls.loyal = cls._customer("Signal Loyal")
        cls._orders(cls.loyal, range(310, 0, -30))

    def test_an_invoice_fifteen_days_overdue_raises_the_risk_with_its_reason(self):
        self._recompute(full=True)
        stat = self._stat(self.loyal)
        self.assertEqual(stat.risk_level, "low")
        self.assertFalse(stat.service_signal)
        order = self.loyal.sale_order_ids.sorted("date_order")[-1]
        invoice = order._create_invoices()
        invoice.action_post()
        invoice.invoice_date_due = TODAY - timedelta(days=14)
        self._recompute()
        stat.invalidate_recordset()
        self.assertEqual(stat.risk_level, "low", "14 days overdue is not a failure yet")
        invoice.invoice_date_due = TODAY - timedelta(days=15)
        self.env["res.company"].invalidate_model()
        self.company.retention_last_reage = TODAY - timedelta(days=1)
        self._recompute()
        stat.invalidate_recordset()
        self.assertEqual(stat.risk_level, "medium")
        self.assertEqual(
            (stat.service_signal, stat.service_signal_date),
            ("invoice_overdue", TODAY - timedelta(days=15)),
        )
        self.assertIn("Invoice overdue on 06/15/2026.", stat.risk_reason)
        history = self.env["retention.segment.history"].search(
            [("partner_id", "=", self.loyal.id)], order="id desc", limit=1
        )
        self.assertEqual((history.old_risk_level, history.risk_level), ("low", "medium"))
        self.assertEqual(history.reason, "Invoice overdue on 06/15/2026")

    def test_a_cancelled_order_is_a_failure_and_it_fades_after_ninety_days(self):
        order = make_order(self.env, self.loyal, self.product, 40.0, confirm=False)
        with freeze_time(TODAY - timedelta(days=91)):
            order._action_cancel()
        self._recompute(full=True)
        self.assertFalse(self._stat(self.loyal).service_signal, "91 days ago: forgotten")
        order.retention_cancelled_on = TODAY - timedelta(days=90)
        self._recompute(full=True)
        stat = self._stat(self.loyal)
        self.assertEqual((stat.service_signal, stat.risk_level), ("order_cancelled", "medium"))
