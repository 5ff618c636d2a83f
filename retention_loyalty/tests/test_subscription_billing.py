import logging
from datetime import date

from freezegun import freeze_time
from psycopg2.errors import UniqueViolation

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import make_product, own_cursor_env

_logger = logging.getLogger(__name__)

# Periods of these subscriptions start on the 1st of each month from June 2026.
START = date(2026, 6, 1)
# Queries of the retry cron for each more charge retried (cards paid and
# refused, half and half): Odoo's request and answer of each transaction and
# the e-mail to each customer refused. Measured: 21.5 (208 queries for 2
# charges, 294 for 6); 113 when each charge was locked, sent, logged, e-mailed
# and committed on its own (227 for 2, 679 for 6).
PER_CHARGE_QUERIES = 24


def require_payment_demo(env):
    """The tests charge saved cards of Odoo's demo provider: fail clearly
    when the database lacks it (never skip)."""
    if "demo_simulated_state" not in env["payment.token"]._fields:
        raise RuntimeError(
            "payment_demo is not installed in this database: the harness installs it in the "
            "test database (tools/harness.py TEST_ONLY_MODULES); by hand, add -i payment_demo"
        )


def demo_token(env, partner, state="done", **values):
    """A saved card of Odoo's demo provider (payment_demo, installed in the
    test database by the harness): its payments end in ``state``."""
    require_payment_demo(env)
    return env["payment.token"].create(
        {
            "provider_id": env.ref("payment.payment_provider_demo").id,
            "payment_method_id": env.ref("payment_demo.payment_method_demo").id,
            "partner_id": partner.id,
            "payment_details": "4242",
            "provider_ref": f"demo {partner.id} {state}",
            "demo_simulated_state": state,
            **values,
        }
    )


class BillingCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.company.partner_id.tz = "UTC"
        cls.company.write(
            {"retention_dunning_retry_days": "1,3,7", "retention_dunning_final_action": "pause"}
        )
        require_payment_demo(cls.env)
        cls.provider = cls.env.ref("payment.payment_provider_demo")
        cls.provider.write({"state": "test", "company_id": cls.company.id})
        cls.coffee = make_product(cls.env, "Billed coffee", 20.0)
        cls.filters = make_product(cls.env, "Billed filters", 5.0)
        # Invoiced on delivery when sold alone: a subscription bills it in advance.
        cls.filters.invoice_policy = "delivery"
        cls.customer = cls.env["res.partner"].create(
            {"name": "Billed Subscriber", "email": "billed@example.com"}
        )
        cls.terms = cls.env.ref("account.account_payment_term_30days")
        cls.customer.property_payment_term_id = cls.terms
        cls.salesman = new_test_user(
            cls.env, login="rl_billing_salesman", groups="sales_team.group_sale_salesman"
        )

    def _subscription(self, policy="posted", token=None, activate=True, **values):
        subscription = self.env["retention.subscription"].create(
            {
                "partner_id": self.customer.id,
                "date_start": START,
                "invoice_policy": policy,
                "payment_token_id": token.id if token else False,
                "user_id": self.salesman.id,
                "line_ids": [
                    Command.create({"product_id": self.coffee.id, "quantity": 2, "price_unit": 20}),
                    Command.create({"product_id": self.filters.id, "quantity": 1, "price_unit": 5}),
                ],
                **values,
            }
        )
        if activate:
            subscription.action_activate()
        return subscription

    def _messages(self, subscription):
        return [
            message.preview
            for message in subscription.message_ids.sorted("id")
            if message.message_type in ("comment", "notification") and message.preview
        ]


@tagged("post_install", "-at_install")
class TestSubscriptionInvoices(BillingCase):
    """An invoice per period, as the subscription's policy says."""

    def test_new_subscriptions_take_the_company_policy_and_the_customer_terms(self):
        self.company.retention_subscription_invoice_policy = "posted_sent"
        subscription = self.env["retention.subscription"].create(
            {"partner_id": self.customer.id, "date_start": START}
        )
        self.assertEqual(subscription.invoice_policy, "posted_sent")
        self.assertEqual(subscription.payment_term_id, self.terms)

    @freeze_time("2026-07-10")
    def test_no_invoice_policy_leaves_the_orders_to_invoice(self):
        subscription = self._subscription(policy="none")
        orders = subscription._generate_orders()
        self.assertEqual(len(orders), 2)
        self.assertFalse(orders.invoice_ids)
        self.assertFalse(subscription.invoice_ids)

    @freeze_time("2026-07-10")
    def test_draft_policy_bills_each_period_in_advance_on_its_start(self):
        subscription = self._subscription(policy="draft")
        orders = subscription._generate_orders().sorted("retention_subscription_period")
        invoices = subscription.invoice_ids.sorted("retention_subscription_period")
        self.assertEqual(len(invoices), 2)
        self.assertRecordValues(
            invoices,
            [
                {
                    "state": "draft",
                    "move_type": "out_invoice",
                    "invoice_date": date(2026, 6, 1),
                    "invoice_payment_term_id": self.terms.id,
                    "retention_subscription_period": 0,
                    "amount_total": 45.0,
                },
                {
                    "state": "draft",
                    "move_type": "out_invoice",
                    "invoice_date": date(2026, 7, 1),
                    "invoice_payment_term_id": self.terms.id,
                    "retention_subscription_period": 1,
                    "amount_total": 45.0,
                },
            ],
        )
        # The filters, invoiced on delivery when sold alone, are billed for
        # the ordered quantity; each order is fully invoiced by its period's invoice.
        self.assertEqual(
            sorted(
                invoices[0].invoice_line_ids.mapped(lambda line: (line.product_id, line.quantity))
            ),
            sorted([(self.coffee, 2.0), (self.filters, 1.0)]),
        )
        self.assertEqual(orders[0].invoice_ids, invoices[0])
        self.assertEqual(orders[1].invoice_ids, invoices[1])
        self.assertEqual(orders.mapped("invoice_status"), ["invoiced", "invoiced"])
        self.assertEqual(subscription.invoice_count, 2)
        self.assertEqual(
            subscription.action_view_invoices()["domain"],
            [("retention_subscription_id", "=", subscription.id)],
        )

    @freeze_time("2026-06-10")
    def test_posted_policy_posts_without_sending(self):
        subscription = self._subscription(policy="posted")
        subscription._generate_orders()
        invoice = subscription.invoice_ids
        self.assertRecordValues(
            invoice, [{"state": "posted", "is_move_sent": False, "payment_state": "not_paid"}]
        )
        self.assertEqual(invoice.invoice_date_due, date(2026, 7, 1))  # 30 days
        self.assertFalse(invoice.message_ids.filtered(lambda m: m.message_type == "comment"))

    @freeze_time("2026-06-10")
    def test_posted_and_sent_policy_emails_odoo_invoice_template_without_pdf(self):
        subscription = self._subscription(policy="posted_sent")
        subscription._generate_orders()
        invoice = subscription.invoice_ids
        self.assertRecordValues(invoice, [{"state": "posted", "is_move_sent": True}])
        sent = invoice.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(sent), 1)
        self.assertIn(invoice.name, sent.subject)
        self.assertEqual(sent.partner_ids, self.customer)
        self.assertFalse(sent.attachment_ids)

    @freeze_time("2026-06-10")
    def test_an_order_confirmed_by_hand_is_billed_too(self):
        subscription = self._subscription(policy="draft", auto_confirm=False)
        order = subscription._generate_orders()
        self.assertEqual(order.state, "draft")
        self.assertFalse(subscription.invoice_ids)
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(subscription.invoice_ids.invoice_line_ids.sale_line_ids.order_id, order)


@tagged("post_install", "-at_install")
class TestSubscriptionPayments(BillingCase):
    """The saved payment method is charged once per period when its invoice is posted."""

    def _charge(self, subscription):
        return subscription.charge_ids

    @freeze_time("2026-06-10")
    def test_a_successful_payment_is_reconciled_with_the_invoice(self):
        subscription = self._subscription(token=demo_token(self.env, self.customer, "done"))
        subscription._generate_orders()
        invoice = subscription.invoice_ids
        charge = self._charge(subscription)
        self.assertRecordValues(charge, [{"state": "done", "attempt_count": 1, "period": 0}])
        self.assertEqual(charge.transaction_ids.state, "done")
        self.assertEqual(charge.transaction_ids.operation, "offline")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(charge.transaction_ids.payment_id.reconciled_invoice_ids, invoice)
        self.assertIn("Payment of", self._messages(subscription)[-1])
        # The next run charges nothing more.
        self.env["retention.subscription"]._cron_generate_orders()
        self.assertEqual(
            len(self.env["payment.transaction"].search([("invoice_ids", "=", invoice.id)])), 1
        )

    @freeze_time("2026-06-10")
    def test_a_refused_payment_starts_the_retries_with_an_email(self):
        subscription = self._subscription(token=demo_token(self.env, self.customer, "error"))
        subscription._generate_orders()
        charge = self._charge(subscription)
        self.assertRecordValues(
            charge,
            [
                {
                    "state": "failed",
                    "attempt_count": 1,
                    "first_failure_date": date(2026, 6, 10),
                    "next_retry_date": date(2026, 6, 11),
                }
            ],
        )
        self.assertEqual(subscription.invoice_ids.payment_state, "not_paid")
        mail = subscription.message_ids.filtered(
            lambda m: m.message_type == "comment" and "failed" in (m.subject or "")
        )
        self.assertEqual(len(mail), 1)
        self.assertIn(f"/my/subscriptions/{subscription.id}", mail.body)
        self.assertEqual(mail.partner_ids, self.customer)

    @freeze_time("2026-06-10")
    def test_a_pending_payment_waits_for_the_provider_then_reconciles(self):
        subscription = self._subscription(token=demo_token(self.env, self.customer, "pending"))
        subscription._generate_orders()
        charge = self._charge(subscription)
        self.assertEqual(charge.state, "pending")
        transaction = charge.transaction_ids
        self.assertEqual(transaction.state, "pending")
        # Neither the order cron nor the retries touch it while the provider is silent.
        self.env["retention.subscription"]._cron_generate_orders()
        self.env["retention.subscription.charge"]._cron_retry_payments()
        self.assertEqual(charge.transaction_ids, transaction)
        # The provider's late answer: Odoo's post-processing reconciles it.
        transaction._set_done()
        transaction._post_process()
        self.assertEqual(charge.state, "done")
        self.assertIn(subscription.invoice_ids.payment_state, ("paid", "in_payment"))

    @freeze_time("2026-06-10")
    def test_one_run_charges_a_batch_with_every_outcome(self):
        """The cron charges its batch together: each transaction ends as its
        card says, only the confirmed ones get a payment, each reconciled
        with its own invoice."""
        subscriptions = self.env["retention.subscription"]
        for state in ("done", "pending", "error", "done"):
            customer = self.customer.copy({"name": f"Batch subscriber {state}"})
            subscriptions |= self._subscription(
                token=demo_token(self.env, customer, state), partner_id=customer.id
            )
        self.env["retention.subscription"]._cron_generate_orders()
        charges = subscriptions.charge_ids.sorted(lambda charge: charge.subscription_id.id)
        self.assertEqual(charges.mapped("state"), ["done", "pending", "failed", "done"])
        self.assertEqual(charges.transaction_ids.mapped("amount"), [45.0] * 4)
        for charge in charges:
            invoice = charge.invoice_id
            payment = charge.transaction_ids.payment_id
            if charge.state == "done":
                self.assertEqual(payment.reconciled_invoice_ids, invoice)
                self.assertEqual(payment.amount, 45.0)
                self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            else:
                self.assertFalse(payment)
                self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(charges[2].next_retry_date, date(2026, 6, 11))
        # Odoo's notes of each transaction on its own invoice, in their order.
        expected = {
            "done": ["has been initiated", "has been confirmed", "has been posted"],
            "pending": ["has been initiated", "is pending"],
            "failed": ["has been initiated", "encountered an error"],
        }
        for charge in charges:
            reference = charge.transaction_ids.reference
            notes = [
                message.preview
                for message in charge.invoice_id.message_ids.sorted("id")
                if reference in (message.preview or "")
            ]
            self.assertEqual(len(notes), len(expected[charge.state]), notes)
            for note, words in zip(notes, expected[charge.state], strict=True):
                self.assertIn(words, note)

    @freeze_time("2026-06-10")
    def test_a_crash_between_invoice_and_payment_is_charged_once_by_the_next_run(self):
        subscription = self._subscription(token=demo_token(self.env, self.customer, "done"))
        # As the cron does: invoices first (then it commits; here it "crashes").
        subscription.with_context(retention_charge_later=True)._generate_orders()
        invoice = subscription.invoice_ids
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(subscription.charge_ids)
        Subscription = self.env["retention.subscription"]
        Subscription._cron_generate_orders()
        Subscription._cron_generate_orders()
        self.assertEqual(len(subscription.charge_ids.transaction_ids), 1)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    @freeze_time("2026-06-10")
    def test_a_draft_invoice_posted_by_hand_charges_the_customer(self):
        subscription = self._subscription(
            policy="draft", token=demo_token(self.env, self.customer, "done")
        )
        subscription._generate_orders()
        invoice = subscription.invoice_ids
        self.assertFalse(subscription.charge_ids)
        invoice.action_post()
        self.assertEqual(subscription.charge_ids.state, "done")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    @freeze_time("2026-06-10")
    def test_an_order_confirmed_by_hand_is_billed_and_charged(self):
        subscription = self._subscription(
            token=demo_token(self.env, self.customer, "done"), auto_confirm=False
        )
        order = subscription._generate_orders()
        self.assertFalse(subscription.invoice_ids)
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(subscription.invoice_ids.state, "posted")
        self.assertEqual(subscription.charge_ids.state, "done")
        self.assertIn(subscription.invoice_ids.payment_state, ("paid", "in_payment"))

    @freeze_time("2026-06-10")
    def test_a_removed_token_fails_with_a_clear_reason(self):
        token = demo_token(self.env, self.customer, "done")
        subscription = self._subscription(token=token)
        token.active = False  # what removing a saved card does
        subscription._generate_orders()
        charge = subscription.charge_ids
        self.assertEqual(charge.state, "failed")
        self.assertFalse(charge.transaction_ids)
        self.assertIn("no usable saved payment method", charge.failure_reason)

    def test_only_the_customer_own_tokens_of_an_enabled_provider(self):
        stranger = self.env["res.partner"].create({"name": "Stranger"})
        with self.assertRaises(ValidationError):
            self._subscription(token=demo_token(self.env, stranger, "done"))
        contact = self.env["res.partner"].create({"name": "Contact", "parent_id": self.customer.id})
        subscription = self._subscription(token=demo_token(self.env, contact, "done"))
        self.assertTrue(subscription.payment_token_id)
        self.provider.state = "disabled"
        with self.assertRaises(ValidationError):
            subscription.payment_token_id = demo_token(self.env, self.customer, "done")

    def test_the_database_refuses_a_second_charge_of_a_period(self):
        with freeze_time("2026-06-10"):
            subscription = self._subscription(token=demo_token(self.env, self.customer, "pending"))
            subscription._generate_orders()
        charge = subscription.charge_ids
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(UniqueViolation),
            self.env.cr.savepoint(),
        ):
            self.env["retention.subscription.charge"].create(
                {
                    "subscription_id": subscription.id,
                    "period": 0,
                    "invoice_id": charge.invoice_id.id,
                }
            )


@tagged("post_install", "-at_install")
class TestSubscriptionDunning(BillingCase):
    """Failed payments are retried on the company's schedule (1, 3 and 7 days
    after the first failure), then the subscription pauses or closes."""

    def _failing_subscription(self):
        token = demo_token(self.env, self.customer, "error")
        with freeze_time("2026-06-10"):
            subscription = self._subscription(token=token)
            subscription._generate_orders()
        return subscription, token

    def _retry_on(self, day):
        with freeze_time(day):
            self.env["retention.subscription.charge"]._cron_retry_payments()

    def _failure_mails(self, subscription):
        return subscription.message_ids.filtered(
            lambda m: m.message_type == "comment" and "failed" in (m.subject or "")
        )

    def test_each_retry_day_then_the_subscription_pauses(self):
        subscription, _token = self._failing_subscription()
        charge = subscription.charge_ids
        self._retry_on("2026-06-11")
        self.assertRecordValues(
            charge, [{"state": "failed", "attempt_count": 2, "next_retry_date": date(2026, 6, 13)}]
        )
        self._retry_on("2026-06-12")  # not due: nothing happens
        self._retry_on("2026-06-12")
        self.assertEqual(charge.attempt_count, 2)
        self._retry_on("2026-06-13")
        self.assertRecordValues(
            charge, [{"state": "failed", "attempt_count": 3, "next_retry_date": date(2026, 6, 17)}]
        )
        self.assertEqual(subscription.state, "active")
        self._retry_on("2026-06-17")
        self.assertRecordValues(
            charge, [{"state": "stopped", "attempt_count": 4, "next_retry_date": False}]
        )
        self.assertEqual(len(charge.transaction_ids), 4)
        self.assertEqual(subscription.state, "paused")
        self.assertEqual(len(self._failure_mails(subscription)), 4)
        activity = subscription.activity_ids
        self.assertEqual(activity.user_id, self.salesman)
        self.assertIn("Payment failed", activity.summary)
        # Nothing more afterwards.
        self._retry_on("2026-06-30")
        self.assertEqual(charge.attempt_count, 4)

    def test_a_subscription_paused_during_dunning_stays_paused(self):
        """The company's final action is "pause": a customer who paused
        meanwhile keeps a paused subscription, not a closed one."""
        subscription, _token = self._failing_subscription()
        self._retry_on("2026-06-11")
        self._retry_on("2026-06-13")
        with freeze_time("2026-06-14"):
            subscription.action_pause()
        self._retry_on("2026-06-17")
        self.assertRecordValues(subscription, [{"state": "paused", "close_reason_id": False}])
        self.assertEqual(subscription.charge_ids.state, "stopped")
        self.assertIn("Payment failed", subscription.activity_ids.summary)

    def test_a_late_cron_retries_once_a_day(self):
        """Retry days already past (the cron did not run for a while) move
        to the next day: a payment is never retried twice in one day."""
        subscription, _token = self._failing_subscription()
        charge = subscription.charge_ids
        self._retry_on("2026-06-20")
        self._retry_on("2026-06-20")  # Odoo runs the job again while work remains
        self.assertRecordValues(
            charge, [{"state": "failed", "attempt_count": 2, "next_retry_date": date(2026, 6, 21)}]
        )
        self._retry_on("2026-06-21")
        self.assertRecordValues(
            charge, [{"state": "failed", "attempt_count": 3, "next_retry_date": date(2026, 6, 22)}]
        )
        self._retry_on("2026-06-22")
        self.assertRecordValues(
            charge, [{"state": "stopped", "attempt_count": 4, "next_retry_date": False}]
        )
        self.assertEqual(len(charge.transaction_ids), 4)

    def test_the_last_retry_closes_even_without_its_close_reason(self):
        """The "Payment failed" reason cannot be deleted from the screens;
        should its record be gone all the same, the subscription closes
        without a reason rather than stopping the retries of everyone."""
        self.company.retention_dunning_final_action = "close"
        self.env["ir.model.data"].search(
            [
                ("module", "=", "retention_loyalty"),
                ("name", "=", "subscription_close_reason_payment_failed"),
            ]
        ).unlink()
        subscription, _token = self._failing_subscription()
        for day in ("2026-06-11", "2026-06-13", "2026-06-17"):
            self._retry_on(day)
        self.assertRecordValues(subscription, [{"state": "closed", "close_reason_id": False}])
        self.assertEqual(subscription.charge_ids.state, "stopped")

    def test_the_last_retry_closes_for_payment_failed_when_the_company_says_so(self):
        self.company.retention_dunning_final_action = "close"
        subscription, _token = self._failing_subscription()
        for day in ("2026-06-11", "2026-06-13", "2026-06-17"):
            self._retry_on(day)
        self.assertRecordValues(
            subscription,
            [
                {
                    "state": "closed",
                    "close_reason_id": self.env.ref(
                        "retention_loyalty.subscription_close_reason_payment_failed"
                    ).id,
                }
            ],
        )

    def test_a_successful_retry_ends_the_sequence(self):
        subscription, token = self._failing_subscription()
        self._retry_on("2026-06-11")
        token.demo_simulated_state = "done"  # the customer's bank accepts again
        self._retry_on("2026-06-13")
        charge = subscription.charge_ids
        self.assertRecordValues(charge, [{"state": "done", "next_retry_date": False}])
        self.assertIn(subscription.invoice_ids.payment_state, ("paid", "in_payment"))
        self.assertIn("The payment retries end.", self._messages(subscription)[-1])
        self._retry_on("2026-06-17")
        self.assertEqual(len(charge.transaction_ids), 3)
        self.assertEqual(subscription.state, "active")

    def test_a_customer_who_closes_during_dunning_stops_it(self):
        subscription, _token = self._failing_subscription()
        with freeze_time("2026-06-11"):
            subscription._close(self.env.ref("retention_loyalty.subscription_close_reason_price"))
        charge = subscription.charge_ids
        self.assertRecordValues(charge, [{"state": "stopped", "next_retry_date": False}])
        self._retry_on("2026-06-13")
        self.assertEqual(len(charge.transaction_ids), 1)
        self.assertFalse(subscription.activity_ids)

    def test_a_cancelled_invoice_is_not_charged_again(self):
        subscription, _token = self._failing_subscription()
        invoice = subscription.invoice_ids
        invoice.button_draft()
        invoice.button_cancel()
        self._retry_on("2026-06-11")
        charge = subscription.charge_ids
        self.assertRecordValues(charge, [{"state": "stopped", "attempt_count": 1}])
        self.assertEqual(len(charge.transaction_ids), 1)
        self.assertIn("cancelled or credited", self._messages(subscription)[-1])

    def _notes(self, subscription):
        return [
            message.preview
            for message in subscription.message_ids.sorted("id")
            if message.message_type == "notification" and message.preview
        ]

    def _failing_charges(self, states):
        """One subscription per state, each of its own customer, whose first
        payment failed on 10 June (next try on the 11th); their cards then
        end in ``states``."""
        subscriptions = self.env["retention.subscription"]
        tokens = self.env["payment.token"]
        with freeze_time("2026-06-10"):
            for index, state in enumerate(states):
                customer = self.customer.copy({"name": f"Dunned subscriber {index} {state}"})
                token = demo_token(self.env, customer, "error")
                tokens |= token
                subscriptions |= self._subscription(token=token, partner_id=customer.id)
            subscriptions._generate_orders()
        for token, state in zip(tokens, states, strict=True):
            token.demo_simulated_state = state
        charges = subscriptions.charge_ids.sorted(lambda charge: charge.subscription_id.id)
        self.assertEqual(charges.mapped("state"), ["failed"] * len(states))
        return charges

    def test_one_run_retries_a_batch_with_every_outcome(self):
        """Due charges are retried together, each ending as its card says:
        paid, failed again, waiting for the provider, given up after the
        last retry, stopped for a cancelled invoice; one not due is left."""
        charges = self._failing_charges(["done", "error", "pending", "error", "error", "error"])
        paid, refused, waiting, last, cancelled, later = charges
        # Its third and last retry (first failure 4 June + 7 days) is due too.
        last.write({"attempt_count": 3, "first_failure_date": date(2026, 6, 4)})
        later.next_retry_date = date(2026, 6, 13)
        cancelled.invoice_id.button_draft()
        cancelled.invoice_id.button_cancel()
        self._retry_on("2026-06-11")
        self.assertRecordValues(
            charges,
            [
                {"state": "done", "attempt_count": 2, "next_retry_date": False},
                {"state": "failed", "attempt_count": 2, "next_retry_date": date(2026, 6, 13)},
                {"state": "pending", "attempt_count": 2, "next_retry_date": date(2026, 6, 11)},
                {"state": "stopped", "attempt_count": 4, "next_retry_date": False},
                {"state": "stopped", "attempt_count": 1, "next_retry_date": False},
                {"state": "failed", "attempt_count": 1, "next_retry_date": date(2026, 6, 13)},
            ],
        )
        self.assertEqual([len(charge.transaction_ids) for charge in charges], [2, 2, 2, 2, 1, 1])
        self.assertEqual(waiting.transaction_ids.sorted("id")[-1].state, "pending")
        self.assertIn(paid.invoice_id.payment_state, ("paid", "in_payment"))
        self.assertEqual(refused.invoice_id.payment_state, "not_paid")
        refusal = refused.transaction_ids.sorted("id")[-1].state_message
        self.assertTrue(refusal)
        self.assertEqual(refused.failure_reason, refusal)
        self.assertEqual(last.failure_reason, refusal)
        subscriptions = charges.subscription_id
        self.assertEqual(
            [charge.subscription_id.state for charge in charges],
            ["active", "active", "active", "paused", "active", "active"],
        )
        self.assertEqual(subscriptions.activity_ids.res_id, last.subscription_id.id)
        self.assertIn(last.invoice_id.name, subscriptions.activity_ids.note)
        self.assertEqual(
            [len(self._failure_mails(charge.subscription_id)) for charge in charges],
            [1, 2, 1, 2, 1, 1],
        )
        for charge in (refused, last):  # each customer gets their own e-mail
            mail = self._failure_mails(charge.subscription_id).sorted("id")[-1]
            self.assertEqual(mail.partner_ids, charge.subscription_id.partner_id)
            self.assertIn(f"/my/subscriptions/{charge.subscription_id.id}", mail.body)
            self.assertIn(charge.invoice_id.name, mail.body)
        logs = {charge: self._notes(charge.subscription_id)[-1] for charge in charges}
        self.assertIn(f"{paid.invoice_id.name} received.", logs[paid])
        self.assertIn("The payment retries end.", logs[paid])
        self.assertIn(f"{refused.invoice_id.name} failed", logs[refused])
        self.assertIn("Next try on 06/13/2026", logs[refused])
        self.assertEqual(
            self._notes(last.subscription_id)[-2:],
            [
                f"Payment of {last.invoice_id.name} failed: {refusal}. No retry left.",
                "Paused: the payment failed.",
            ],
        )
        self.assertIn("cancelled or credited", logs[cancelled])
        # Waiting for the provider: the note of the first failure stays the last.
        self.assertIn("Next try on 06/11/2026", logs[waiting])
        self.assertIn("Next try on 06/11/2026", logs[later])

    def test_more_due_retries_than_one_batch(self):
        """A batch at a time, the earliest due first; "remaining" says
        whether more are due, as the cron runner needs."""
        charges = self._failing_charges(["error"] * 5)
        charges[4].next_retry_date = date(2026, 6, 12)  # not due on the 11th
        charges[3].next_retry_date = date(2026, 6, 9)  # overdue: first
        cron = self.env.ref("retention_loyalty.ir_cron_retention_subscription_payment_retries")
        _cron, progress = cron._add_progress()
        Charge = self.env["retention.subscription.charge"].with_context(
            ir_cron_progress_id=progress.id
        )
        runs = []
        with freeze_time("2026-06-11"):
            for _run in range(3):
                Charge._cron_retry_payments(batch_size=2)
                runs.append((progress.done, progress.remaining, charges.mapped("attempt_count")))
        self.assertEqual(
            runs,
            [(2, 1, [2, 1, 1, 2, 1]), (2, 0, [2, 2, 2, 2, 1]), (0, 0, [2, 2, 2, 2, 1])],
        )

    def test_retry_queries_do_not_grow_per_charge(self):
        """The cron retries its batch with a fixed cost plus what Odoo's
        payment flow and the customer's e-mail cost for each charge."""
        Charge = self.env["retention.subscription.charge"]

        def queries_for(count):
            charges = self._failing_charges(["done", "error"] * (count // 2))
            self.env.flush_all()
            self.env.invalidate_all()
            with freeze_time("2026-06-11"):
                before = self.env.cr.sql_log_count
                Charge._cron_retry_payments()
                self.env.flush_all()
                queries = self.env.cr.sql_log_count - before
            self.assertEqual(charges.mapped("state"), ["done", "failed"] * (count // 2))
            return queries

        queries_for(2)  # warm-up
        two, six = queries_for(2), queries_for(6)
        _logger.info("Retry cron queries: %s for 2 charges, %s for 6", two, six)
        self.assertLessEqual(six - two, 4 * PER_CHARGE_QUERIES)

    def test_retry_days_are_validated(self):
        with self.assertRaises(ValidationError):
            self.company.retention_dunning_retry_days = "3,1"
        with self.assertRaises(ValidationError):
            self.company.retention_dunning_retry_days = "1,,7"


@tagged("post_install", "-at_install")
class TestSubscriptionChangeBilling(BillingCase):
    """Prorated changes follow the subscription's invoice policy, worked out
    by hand: a monthly subscription from 1 June (30 days) of 2 seats at
    30.00, a service without taxes, its June period paid by card."""

    def setUp(self):
        super().setUp()
        self.company.retention_subscription_change_mode = "now"
        self.seat = make_product(self.env, "Billed seat", 30.0)

    def _seats(self, policy="posted", token_state="done"):
        with freeze_time("2026-06-02"):
            subscription = self._subscription(
                policy=policy,
                token=demo_token(self.env, self.customer, token_state),
                line_ids=[
                    Command.create({"product_id": self.seat.id, "quantity": 2, "price_unit": 30})
                ],
            )
            subscription._generate_orders()
        return subscription

    def _change(self, subscription, day, seats):
        with freeze_time(day):
            subscription._set_quantities({subscription.line_ids: seats})
        return self.env["sale.order"].search(
            [("retention_subscription_change_id", "=", subscription.id)], order="id desc", limit=1
        )

    def test_an_added_seat_is_invoiced_posted_and_charged_at_once(self):
        subscription = self._seats()
        # One more seat from 11 to 30 June, 20 of 30 days: 30.00 x 20 / 30 = 20.00.
        order = self._change(subscription, "2026-06-11", 3)
        invoice = order.invoice_ids
        self.assertRecordValues(
            invoice,
            [
                {
                    "move_type": "out_invoice",
                    "state": "posted",
                    "amount_total": 20.0,
                    "invoice_date": date(2026, 6, 11),
                    "invoice_payment_term_id": self.terms.id,
                    "retention_subscription_id": subscription.id,
                    "retention_subscription_period": 0,
                    "retention_change_order_id": order.id,
                }
            ],
        )
        self.assertEqual(order.invoice_status, "invoiced")
        charge = subscription.charge_ids.filtered(lambda c: c.change_order_id == order)
        self.assertRecordValues(charge, [{"state": "done", "period": 0, "invoice_id": invoice.id}])
        self.assertEqual(charge.transaction_ids.amount, 20.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        # The period and its change: two charges of June, each once.
        self.assertEqual(sorted(subscription.charge_ids.mapped("amount")), [20.0, 60.0])
        with freeze_time("2026-06-12"):
            self.env["retention.subscription"]._cron_generate_orders()
        self.assertEqual(len(subscription.charge_ids.transaction_ids), 2)

    def test_two_changes_in_a_period_are_each_charged_once(self):
        subscription = self._seats()
        self._change(subscription, "2026-06-11", 3)
        # A fourth seat from 21 June, 10 of 30 days: 30.00 x 10 / 30 = 10.00.
        second = self._change(subscription, "2026-06-21", 4)
        self.assertEqual(second.invoice_ids.amount_total, 10.0)
        self.assertEqual(sorted(subscription.charge_ids.mapped("amount")), [10.0, 20.0, 60.0])
        self.assertEqual(set(subscription.charge_ids.mapped("state")), {"done"})

    def test_seats_taken_off_are_credited_without_a_charge(self):
        subscription = self._seats()
        # One seat fewer from 21 June, 10 of 30 days: 30.00 x 10 / 30 = 10.00 back.
        order = self._change(subscription, "2026-06-21", 1)
        self.assertEqual(order.amount_untaxed, -10.0)
        credit = order.invoice_ids
        self.assertRecordValues(
            credit,
            [
                {
                    "move_type": "out_refund",
                    "state": "posted",
                    "amount_total": 10.0,
                    "invoice_date": date(2026, 6, 21),
                    "retention_change_order_id": order.id,
                }
            ],
        )
        self.assertEqual(credit.invoice_line_ids.quantity, 1.0)
        self.assertEqual(order.invoice_status, "invoiced")
        self.assertFalse(subscription.charge_ids.filtered("change_order_id"))

    def test_a_draft_policy_leaves_the_change_invoice_in_draft(self):
        subscription = self._seats(policy="draft")
        order = self._change(subscription, "2026-06-11", 3)
        self.assertRecordValues(order.invoice_ids, [{"state": "draft", "amount_total": 20.0}])
        self.assertFalse(subscription.charge_ids)

    def test_no_invoice_policy_leaves_the_change_to_invoice(self):
        subscription = self._seats(policy="none")
        order = self._change(subscription, "2026-06-11", 3)
        self.assertFalse(order.invoice_ids)
        self.assertEqual(order.invoice_status, "to invoice")

    def test_a_refused_change_payment_starts_the_retries(self):
        subscription = self._seats(token_state="error")
        order = self._change(subscription, "2026-06-11", 3)
        charge = subscription.charge_ids.filtered(lambda c: c.change_order_id == order)
        self.assertRecordValues(charge, [{"state": "failed", "next_retry_date": date(2026, 6, 12)}])
        self.assertEqual(order.invoice_ids.payment_state, "not_paid")


def remove_committed_subscriptions(open_env, subscription_ids, partner_ids, product_id, token_ids):
    """Remove what a concurrency test committed on its own connections, on a
    connection ``open_env()`` opens now."""
    env = open_env()
    for query in (
        "DELETE FROM payment_transaction WHERE token_id = ANY(%s)",
        "DELETE FROM retention_subscription_charge WHERE subscription_id = ANY(%s)",
        "DELETE FROM mail_message WHERE model = 'account.move' AND res_id IN "
        "(SELECT id FROM account_move WHERE retention_subscription_id = ANY(%s))",
        "DELETE FROM mail_followers WHERE res_model = 'account.move' AND res_id IN "
        "(SELECT id FROM account_move WHERE retention_subscription_id = ANY(%s))",
        "DELETE FROM account_move WHERE retention_subscription_id = ANY(%s)",
        "DELETE FROM sale_order WHERE retention_subscription_id = ANY(%s)",
        "DELETE FROM mail_message WHERE model = 'retention.subscription' AND res_id = ANY(%s)",
        "DELETE FROM mail_followers WHERE res_model = 'retention.subscription' "
        "AND res_id = ANY(%s)",
        "DELETE FROM retention_subscription WHERE id = ANY(%s)",
    ):
        env.cr.execute(query, [token_ids if "token_id" in query else subscription_ids])
    env["payment.token"].browse(token_ids).unlink()
    env["product.product"].browse(product_id).product_tmpl_id.unlink()
    env["res.partner"].browse(partner_ids).unlink()
    env.cr.commit()


@tagged("post_install", "-at_install")
class TestSubscriptionChargeConcurrency(TransactionCase):
    """Two real transactions (two cron workers, or a crash and a rerun) find
    the same posted, unpaid invoice: the period is charged once."""

    def _env(self):
        return own_cursor_env(self, mail_create_nolog=True)

    def setUp(self):
        super().setUp()
        env = self._env()
        require_payment_demo(env)
        env.ref("payment.payment_provider_demo").state = "test"
        partner = env["res.partner"].create({"name": "Raced Subscriber"})
        product = make_product(env, "Raced coffee", 20.0)
        token = demo_token(env, partner, "pending")
        subscription = env["retention.subscription"].create(
            {
                "partner_id": partner.id,
                "date_start": env["retention.subscription"]._company_today(env.company),
                "invoice_policy": "posted",
                "payment_token_id": token.id,
                "line_ids": [Command.create({"product_id": product.id, "price_unit": 20.0})],
            }
        )
        subscription.action_activate()
        # The invoice is posted and committed, its charge not made yet.
        subscription.with_context(retention_charge_later=True)._generate_orders()
        env.cr.commit()
        self.subscription_id = subscription.id
        self.addCleanup(
            remove_committed_subscriptions,
            self._env,
            [subscription.id],
            [partner.id],
            product.id,
            [token.id],
        )

    def test_two_workers_charge_a_period_once(self):
        first, second = self._env(), self._env()
        Move = first["account.move"]
        found_first = Move._retention_open_subscription_invoices(
            subscriptions=first["retention.subscription"].browse(self.subscription_id)
        )
        found_second = second["account.move"]._retention_open_subscription_invoices(
            subscriptions=second["retention.subscription"].browse(self.subscription_id)
        )
        self.assertEqual(len(found_first), 1)
        self.assertEqual(found_second.ids, found_first.ids)
        found_first._retention_charge(commit=True)
        with mute_logger("odoo.sql_db"):
            found_second._retention_charge(commit=True)
        check = self._env()
        charges = check["retention.subscription.charge"].search(
            [("subscription_id", "=", self.subscription_id)]
        )
        self.assertEqual(len(charges), 1)
        self.assertEqual(len(charges.transaction_ids), 1)
        self.assertEqual(charges.state, "pending")
        # A third run, with everything committed, finds nothing to charge.
        self.assertFalse(
            check["account.move"]._retention_open_subscription_invoices(
                subscriptions=charges.subscription_id
            )
        )


@tagged("post_install", "-at_install")
class TestSubscriptionRetryConcurrency(TransactionCase):
    """Two workers retry failed payments at the same time, each in its own
    database transaction: a charge the other one holds is skipped, the rest
    of the batch retried."""

    def _env(self):
        return own_cursor_env(self, mail_create_nolog=True)

    def setUp(self):
        super().setUp()
        env = self._env()
        require_payment_demo(env)
        env.ref("payment.payment_provider_demo").state = "test"
        product = make_product(env, "Retried coffee", 20.0)
        partners = env["res.partner"].create(
            [{"name": "Held Subscriber"}, {"name": "Free Subscriber"}]
        )
        tokens = env["payment.token"]
        subscriptions = env["retention.subscription"]
        with freeze_time("2026-06-10 12:00"):
            for partner in partners:
                tokens |= demo_token(env, partner, "error")
                subscriptions |= env["retention.subscription"].create(
                    {
                        "partner_id": partner.id,
                        "date_start": START,
                        "invoice_policy": "posted",
                        "payment_token_id": tokens[-1].id,
                        "line_ids": [Command.create({"product_id": product.id, "price_unit": 20})],
                    }
                )
            subscriptions.action_activate()
            subscriptions._generate_orders()
        self.held, self.free = subscriptions.charge_ids.sorted(
            lambda charge: charge.subscription_id.id
        ).ids
        env.cr.commit()
        self.addCleanup(
            remove_committed_subscriptions,
            self._env,
            subscriptions.ids,
            partners.ids,
            product.id,
            tokens.ids,
        )

    def test_a_charge_held_by_another_worker_is_skipped(self):
        holder = self._env()
        holder.cr.execute(
            "SELECT id FROM retention_subscription_charge WHERE id = %s FOR UPDATE", [self.held]
        )
        worker = self._env()
        Charge = worker["retention.subscription.charge"]
        with freeze_time("2026-06-11 12:00"):
            Charge._cron_retry_payments()
        worker.flush_all()
        held, free = Charge.browse([self.held, self.free])
        self.assertRecordValues(
            held + free,
            [
                {"state": "failed", "attempt_count": 1, "next_retry_date": date(2026, 6, 11)},
                {"state": "failed", "attempt_count": 2, "next_retry_date": date(2026, 6, 13)},
            ],
        )
        self.assertEqual(len(held.transaction_ids), 1)
        self.assertEqual(len(free.transaction_ids), 2)
        worker.cr.rollback()
        holder.cr.rollback()
