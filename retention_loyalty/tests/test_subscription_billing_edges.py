from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .test_subscription_billing import BillingCase, demo_token


@tagged("post_install", "-at_install")
class TestSubscriptionBillingEdges(BillingCase):
    """Edge cases of issue 18: a subscription billed in another currency than
    the company's, and a paid period refunded by credit note."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_currency = cls.company.currency_id
        cls.foreign = cls.env.ref(
            "base.EUR" if company_currency != cls.env.ref("base.EUR") else "base.USD"
        )
        cls.foreign.active = True
        # 2 units of the foreign currency for 1 of the company's, from before the periods.
        cls.env["res.currency.rate"].create(
            {
                "name": date(2026, 1, 1),
                "rate": 2.0,
                "currency_id": cls.foreign.id,
                "company_id": cls.company.id,
            }
        )
        cls.foreign_pricelist = cls.env["product.pricelist"].create(
            {"name": "Foreign prices", "currency_id": cls.foreign.id, "company_id": False}
        )

    @freeze_time("2026-06-10")
    def test_a_foreign_currency_period_is_invoiced_and_charged_in_its_currency(self):
        self.customer.property_product_pricelist = self.foreign_pricelist
        subscription = self._subscription(token=demo_token(self.env, self.customer, "done"))
        self.assertEqual(subscription.currency_id, self.foreign)
        # 2 x 20 + 5 = 45.00 a month in the foreign currency, 22.50 in the company's.
        self.assertAlmostEqual(subscription.mrr, 22.50, places=2)
        subscription._generate_orders()
        invoice = subscription.invoice_ids
        self.assertRecordValues(
            invoice, [{"currency_id": self.foreign.id, "amount_total": 45.0, "state": "posted"}]
        )
        transaction = subscription.charge_ids.transaction_ids
        self.assertRecordValues(
            transaction, [{"currency_id": self.foreign.id, "amount": 45.0, "state": "done"}]
        )
        self.assertEqual(transaction.payment_id.currency_id, self.foreign)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_a_refunded_paid_period_is_never_charged_again(self):
        token = demo_token(self.env, self.customer, "done")
        with freeze_time("2026-06-10"):
            subscription = self._subscription(token=token)
            subscription._generate_orders()
            june = subscription.invoice_ids
            self.assertIn(june.payment_state, ("paid", "in_payment"))
            reversal = (
                self.env["account.move.reversal"]
                .with_context(active_model="account.move", active_ids=june.ids)
                .create({"journal_id": june.journal_id.id, "reason": "Refund of June"})
            )
            refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
            refund.action_post()
            self.assertEqual(refund.amount_total, 45.0)
            # The next runs of the day neither charge the period again nor the credit note.
            self.env["retention.subscription"]._cron_generate_orders()
            self.env["retention.subscription.charge"]._cron_retry_payments()
            self.assertEqual(len(subscription.charge_ids), 1)
            self.assertEqual(len(subscription.charge_ids.transaction_ids), 1)
            self.assertFalse(
                self.env["payment.transaction"].search([("invoice_ids", "in", refund.ids)])
            )
        # July is billed and charged as usual.
        with freeze_time("2026-07-01"):
            self.env["retention.subscription"]._cron_generate_orders()
            self.assertEqual(len(subscription.charge_ids), 2)
            july = subscription.invoice_ids.filtered(
                lambda move: move.retention_subscription_period == 1
            )
            self.assertEqual(july.amount_total, 45.0)
            self.assertIn(july.payment_state, ("paid", "in_payment"))

    @freeze_time("2026-06-10")
    def test_two_quantity_changes_in_one_period_bill_the_next_period_once_at_the_last(self):
        subscription = self._subscription(token=demo_token(self.env, self.customer, "done"))
        subscription._generate_orders()
        coffee_line = subscription.line_ids.filtered(lambda line: line.product_id == self.coffee)
        subscription.write({"line_ids": [Command.update(coffee_line.id, {"quantity": 3})]})
        subscription.write({"line_ids": [Command.update(coffee_line.id, {"quantity": 1})]})
        with freeze_time("2026-07-01"):
            self.env["retention.subscription"]._cron_generate_orders()
        july = subscription.invoice_ids.filtered(
            lambda move: move.retention_subscription_period == 1
        )
        # 1 x 20 + 5: the last quantity, once.
        self.assertEqual(july.amount_total, 25.0)
        self.assertEqual(len(subscription.charge_ids), 2)
