import logging
import threading

from odoo import api, fields, models
from odoo.tools import SQL, create_unique_index, format_amount, format_date

from ..engine.dunning import next_retry

_logger = logging.getLogger(__name__)

PAYMENT_FAILED_REASON = "retention_loyalty.subscription_close_reason_payment_failed"


class RetentionSubscriptionCharge(models.Model):
    """The payment of one subscription period by its saved payment method:
    one row per (subscription, period), and per prorated change within it,
    so that a period is never charged twice, holding the transactions of
    its attempts and the retries of a failed payment (dunning)."""

    _name = "retention.subscription.charge"
    _description = "Subscription Payment"
    _order = "id desc"
    _rec_name = "invoice_id"

    subscription_id = fields.Many2one(
        "retention.subscription", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    period = fields.Integer(required=True, readonly=True)
    change_order_id = fields.Many2one(
        "sale.order",
        string="Change",
        readonly=True,
        help="The prorated change of the period this payment charges (none: the period itself).",
    )
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

    def init(self):
        """A period is charged once, and each prorated change within it once:
        unique (subscription, period, change), enforced by the database."""
        # The former unique (subscription, period) would refuse the changes.
        self.env.cr.execute(
            SQL(
                "ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s",
                SQL.identifier(self._table),
                SQL.identifier(f"{self._table}_period_uniq"),
            )
        )
        create_unique_index(
            self.env.cr,
            f"{self._table}_period_change_uniq",
            self._table,
            ["subscription_id", "period", "COALESCE(change_order_id, 0)"],
        )

    # ------------------------------------------------------------------ requests

    def _send_request(self):
        """Charge each invoice's residual amount with its subscription's saved
        payment method (offline transactions, created at once); the
        provider's answers are applied, in one batch, when they come
        synchronously, later otherwise. Returns the transactions sent."""
        transactions = self._create_transactions()
        with transactions._retention_batched_notes() as batched:
            batched._send_to_providers()
            batched.filtered(lambda tx: tx.state in ("done", "cancel", "error"))._post_process()
        return transactions

    def _create_transactions(self):
        """The transactions of these charges' next attempts; charges that
        cannot be sent are stopped, done or failed instead."""
        values_list = []
        sent = self.browse()
        for charge in self:
            invoice = charge.invoice_id
            if invoice.state != "posted" or invoice.payment_state == "reversed":
                charge._stop(self.env._("the invoice was cancelled or credited"))
                continue
            if invoice.payment_state in ("paid", "in_payment"):
                charge._set_done()  # paid some other way meanwhile
                continue
            sent |= charge
        usable = sent._usable_tokens()
        for charge in sent:
            charge.attempt_count += 1
        for charge in sent:
            token = usable.get(charge)
            if not token:
                charge._register_failure(
                    self.env._(
                        "no usable saved payment method (it was removed, has expired or its "
                        "provider is disabled)"
                    )
                )
                continue
            invoice = charge.invoice_id
            values_list.append(
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
        transactions = self.env["payment.transaction"].create(values_list)
        transactions.retention_charge_id.state = "pending"
        return transactions

    def _usable_tokens(self):
        """{charge: its subscription's saved payment method} for those still
        usable (active, the customer's, of a provider enabled in the
        subscription's company), read for all the charges at once."""
        tokens = self.subscription_id.payment_token_id.sudo().exists()
        tokens.fetch(["active", "partner_id", "provider_id"])
        usable = {}
        for charge in self:
            subscription = charge.subscription_id
            token = subscription.payment_token_id.sudo()
            if (
                token in tokens
                and token.active
                and token.partner_id.commercial_partner_id
                == subscription.partner_id.commercial_partner_id
                and token.provider_id.state in ("enabled", "test")
                and token.provider_id.company_id == subscription.company_id
            ):
                usable[charge] = token
        return usable

    def _on_transaction_results(self, transactions):
        """Apply the final states (done, cancelled or error) of
        ``transactions``: their charges are paid, or failed (and retried)."""
        done = transactions.filtered(lambda tx: tx.state == "done").retention_charge_id
        done._set_done()
        for transaction in transactions.filtered(lambda tx: tx.state in ("cancel", "error")):
            charge = transaction.retention_charge_id
            if charge.state == "pending":
                charge._register_failure(
                    transaction.state_message or self.env._("the payment was refused")
                )

    def _set_done(self):
        """Paid: one log per subscription, written for all the charges at once."""
        if not self:
            return
        bodies = {}
        for charge in self:
            body = self.env._(
                "Payment of %(amount)s for %(invoice)s received.",
                amount=format_amount(self.env, charge.amount, charge.currency_id),
                invoice=charge.invoice_id.name,
            )
            if charge.state in ("failed", "stopped") or charge.first_failure_date:
                body += " " + self.env._("The payment retries end.")
            subscription_id = charge.subscription_id.id
            bodies[subscription_id] = (
                f"{bodies[subscription_id]} {body}" if subscription_id in bodies else body
            )
        self.write({"state": "done", "next_retry_date": False})
        self.subscription_id._message_log_batch(bodies=bodies)

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
