import logging
import threading

from odoo import api, fields, models
from odoo.tools import SQL, format_amount, format_date

from ..engine.dunning import next_retry

_logger = logging.getLogger(__name__)

PAYMENT_FAILED_REASON = "retention_loyalty.subscription_close_reason_payment_failed"


class RetentionSubscriptionCharge(models.Model):
    """The payment of one subscription period by its saved payment method:
    one row per (subscription, period), so that a period is never charged
    twice, holding the transactions of its attempts and the retries of a
    failed payment (dunning)."""

    _name = "retention.subscription.charge"
    _description = "Subscription Payment"
    _order = "id desc"
    _rec_name = "invoice_id"

    subscription_id = fields.Many2one(
        "retention.subscription", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    period = fields.Integer(required=True, readonly=True)
    invoice_id = fields.Many2one("account.move", required=True, ondelete="restrict", readonly=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    amount = fields.Monetary(related="invoice_id.amount_total", string="Amount")
    state = fields.Selection(
        [
            ("draft", "To Send"),
            ("pending", "Waiting for the Provider"),
            ("done", "Paid"),
            ("failed", "Failed, Retrying"),
            ("stopped", "Failed, Given Up"),
        ],
        default="draft",
        required=True,
        readonly=True,
        index=True,
    )
    transaction_ids = fields.One2many(
        "payment.transaction", "retention_charge_id", string="Transactions", readonly=True
    )
    attempt_count = fields.Integer(string="Attempts", readonly=True)
    first_failure_date = fields.Date(readonly=True)
    next_retry_date = fields.Date(string="Next Retry", readonly=True, index=True)
    failure_reason = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "period_uniq",
            "unique(subscription_id, period)",
            "A subscription period is charged only once.",
        )
    ]

    # ------------------------------------------------------------------ requests

    def _send_request(self):
        """Charge the invoice's residual amount with the subscription's saved
        payment method (an offline transaction); the provider's answer is
        applied at once when it comes synchronously, later otherwise."""
        for charge in self:
            subscription = charge.subscription_id
            invoice = charge.invoice_id
            if invoice.state != "posted" or invoice.payment_state == "reversed":
                charge._stop(self.env._("the invoice was cancelled or credited"))
                continue
            if invoice.payment_state in ("paid", "in_payment"):
                charge._set_done()  # paid some other way meanwhile
                continue
            charge.attempt_count += 1
            token = subscription.payment_token_id
            if not token or not subscription._is_usable_token(token):
                charge._register_failure(
                    self.env._(
                        "no usable saved payment method (it was removed, has expired or its "
                        "provider is disabled)"
                    )
                )
                continue
            transaction = self.env["payment.transaction"].create(
                {
                    "provider_id": token.provider_id.id,
                    "payment_method_id": token.payment_method_id.id,
                    "reference": f"{invoice.name}-{charge.attempt_count}",
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": invoice.partner_id.id,
                    "token_id": token.id,
                    "operation": "offline",
                    "invoice_ids": [fields.Command.set(invoice.ids)],
                    "retention_charge_id": charge.id,
                }
            )
            charge.state = "pending"
            try:
                with self.env.cr.savepoint():
                    transaction._send_payment_request()
            except Exception as error:  # pylint: disable=broad-except
                # Providers raise on refused requests: a failure of this
                # payment, never of the run.
                _logger.info("Payment request %s failed: %s", transaction.reference, error)
                transaction._set_error(str(error))
            if transaction.state in ("done", "cancel", "error"):
                transaction._post_process()

    def _on_transaction_result(self, transaction):
        """Apply a transaction's final state (done, cancelled or error)."""
        self.ensure_one()
        if transaction.state == "done":
            self._set_done()
        elif self.state == "pending" and transaction.state in ("cancel", "error"):
            self._register_failure(
                transaction.state_message or self.env._("the payment was refused")
            )

    def _set_done(self):
        self.ensure_one()
        was_dunning = self.state in ("failed", "stopped") or self.first_failure_date
        self.write({"state": "done", "next_retry_date": False})
        body = self.env._(
            "Payment of %(amount)s for %(invoice)s received.",
            amount=format_amount(self.env, self.amount, self.currency_id),
            invoice=self.invoice_id.name,
        )
        if was_dunning:
            body += " " + self.env._("The payment retries end.")
        self.subscription_id.message_post(body=body)

    def _register_failure(self, reason):
        """A failed attempt: the next retry of the company's schedule, with an
        e-mail to the customer; after the last one, the subscription pauses or
        closes for "Payment failed" and the salesperson gets an activity."""
        self.ensure_one()
        subscription = self.subscription_id
        today = subscription._today()
        first_failure = self.first_failure_date or today
        retry_day = next_retry(
            first_failure, self.attempt_count - 1, subscription.company_id._retention_dunning_days()
        )
        self.write(
            {
                "state": "failed" if retry_day else "stopped",
                "first_failure_date": first_failure,
                "next_retry_date": retry_day or False,
                "failure_reason": reason,
            }
        )
        if retry_day:
            subscription.message_post(
                body=self.env._(
                    "Payment of %(invoice)s failed: %(reason)s. Next try on %(day)s.",
                    invoice=self.invoice_id.name,
                    reason=reason,
                    day=format_date(self.env, retry_day),
                )
            )
        else:
            subscription.message_post(
                body=self.env._(
                    "Payment of %(invoice)s failed: %(reason)s. No retry left.",
                    invoice=self.invoice_id.name,
                    reason=reason,
                )
            )
        template = self.env.ref(
            "retention_loyalty.mail_template_subscription_payment_failed", raise_if_not_found=False
        )
        if template and subscription.partner_id.email:
            subscription.message_post_with_source(
                template, message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        if not retry_day:
            self._give_up()

    def _give_up(self):
        self.ensure_one()
        subscription = self.subscription_id
        company = subscription.company_id
        if subscription.state == "active" and company.retention_dunning_final_action == "pause":
            subscription.action_pause()
            subscription.message_post(body=self.env._("Paused: the payment failed."))
        elif subscription.state in ("active", "paused"):
            reason = self.env.ref(PAYMENT_FAILED_REASON, raise_if_not_found=False)
            subscription._close(reason or self.env["retention.subscription.close.reason"])
        subscription.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Payment failed: %(name)s", name=subscription.name),
            note=self.env._(
                "The payment of %(invoice)s failed after every retry (%(reason)s). Contact "
                "the customer.",
                invoice=self.invoice_id.name,
                reason=self.failure_reason,
            ),
            user_id=subscription.user_id.id or self.env.user.id,
        )

    def _stop(self, why):
        for charge in self:
            charge.write({"state": "stopped", "next_retry_date": False})
            charge.subscription_id.message_post(
                body=self.env._(
                    "Payment retries of %(invoice)s stopped: %(why)s.",
                    invoice=charge.invoice_id.name,
                    why=why,
                )
            )

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_retry_payments(self, batch_size=200):
        """Retry the failed payments whose day has come, in batches; each
        retry commits (outside tests) once the provider has answered. A
        charge another worker is retrying is skipped (locked), and one
        retried today is not due again before its next retry day."""
        # The query below reads the table: what this transaction wrote counts.
        self.env.flush_all()
        companies = self.env["res.company"].sudo().search([])  # pylint: disable=no-search-all
        Subscription = self.env["retention.subscription"]
        local_days = SQL(", ").join(
            SQL("(%s, %s::date)", company.id, Subscription._company_today(company))
            for company in companies
        )
        due_condition = SQL(
            """c.state = 'failed' AND c.next_retry_date <= local.today""",
        )
        rows = self.env.execute_query(
            SQL(
                """SELECT c.id FROM retention_subscription_charge c
                     JOIN (VALUES %s) AS local(company_id, today)
                       ON local.company_id = c.company_id
                    WHERE %s
                 ORDER BY c.next_retry_date, c.id LIMIT %s""",
                local_days,
                due_condition,
                batch_size + 1,
            )
        )
        due = self.sudo().browse(row[0] for row in rows)
        batch = due[:batch_size]
        commit = not getattr(threading.current_thread(), "testing", False)
        for charge in batch:
            locked = self.env.execute_query(
                SQL(
                    """SELECT c.id FROM retention_subscription_charge c
                         JOIN (VALUES %s) AS local(company_id, today)
                           ON local.company_id = c.company_id
                        WHERE c.id = %s AND %s
                          FOR UPDATE OF c SKIP LOCKED""",
                    local_days,
                    charge.id,
                    due_condition,
                )
            )
            if not locked:
                continue  # another worker has it, or it is no longer due
            charge.invalidate_recordset()
            if charge.subscription_id.state == "closed":
                charge._stop(self.env._("the subscription is closed"))
            else:
                charge._send_request()
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=len(due) - len(batch))
