import logging
import threading
from collections import defaultdict

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

    def _send_request(self, commit=False):
        """Charge each invoice's residual amount with its subscription's saved
        payment method (offline transactions, created at once); the
        provider's answers are applied, in one batch, when they come
        synchronously, later otherwise. Returns the transactions sent.

        With ``commit`` (the crons), the transactions are committed before
        their requests go to the providers: their charges are then pending,
        no longer due, so that a crash while they are sent never makes a
        second transaction for the same attempt (a rollback before that
        commit has sent nothing). The answers are committed before the
        payments are made (Odoo's post-processing cron finishes those)."""
        transactions = self._create_transactions()
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        with transactions._retention_batched_notes() as batched:
            batched._send_to_providers()
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        answered = transactions.filtered(lambda tx: tx.state in ("done", "cancel", "error"))
        with answered._retention_batched_notes() as batched:
            batched._post_process()
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return transactions

    def _create_transactions(self):
        """The transactions of these charges' next attempts; charges that
        cannot be sent are stopped, done or failed instead."""
        cancelled = self.filtered(
            lambda charge: (
                charge.invoice_id.state != "posted" or charge.invoice_id.payment_state == "reversed"
            )
        )
        cancelled._stop(self.env._("the invoice was cancelled or credited"))
        paid = (self - cancelled).filtered(
            lambda charge: charge.invoice_id.payment_state in ("paid", "in_payment")
        )
        paid._set_done()  # paid some other way meanwhile
        sent = self - cancelled - paid
        usable = sent._usable_tokens()
        for charge in sent:
            charge.attempt_count += 1
        without_token = sent.filtered(lambda charge: charge not in usable)
        without_token._register_failure(
            self.env._(
                "no usable saved payment method (it was removed, has expired or its "
                "provider is disabled)"
            )
        )
        values_list = []
        for charge in sent - without_token:
            token = usable[charge]
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
        ``transactions``: their charges are paid, or failed (and retried),
        together for each reason the providers gave."""
        done = transactions.filtered(lambda tx: tx.state == "done").retention_charge_id
        done._set_done()
        refused = defaultdict(self.browse)
        for transaction in transactions.filtered(lambda tx: tx.state in ("cancel", "error")):
            charge = transaction.retention_charge_id
            if charge.state == "pending":
                reason = transaction.state_message or self.env._("the payment was refused")
                refused[reason] |= charge
        for reason, charges in refused.items():
            charges._register_failure(reason)

    def _log_on_subscriptions(self, body_of):
        """Log ``body_of(charge)`` for each charge on its subscription: one
        note per subscription (its charges' texts joined), all at once."""
        bodies = {}
        for charge in self:
            body = body_of(charge)
            subscription_id = charge.subscription_id.id
            bodies[subscription_id] = (
                f"{bodies[subscription_id]} {body}" if subscription_id in bodies else body
            )
        self.subscription_id._message_log_batch(bodies=bodies)

    def _set_done(self):
        """Paid: one log per subscription, written for all the charges at once."""
        if not self:
            return

        def body_of(charge):
            body = self.env._(
                "Payment of %(amount)s for %(invoice)s received.",
                amount=format_amount(self.env, charge.amount, charge.currency_id),
                invoice=charge.invoice_id.name,
            )
            if charge.state in ("failed", "stopped") or charge.first_failure_date:
                body += " " + self.env._("The payment retries end.")
            return body

        bodies = {charge: body_of(charge) for charge in self}  # before the states change
        self.write({"state": "done", "next_retry_date": False})
        self._log_on_subscriptions(bodies.__getitem__)

    def _register_failure(self, reason):
        """A failed attempt of each charge: its next retry on its company's
        schedule, with an e-mail to the customer; after the last one, the
        subscription pauses or closes for "Payment failed" and the
        salesperson gets an activity. One write per next retry day."""
        if not self:
            return
        retry_days = {}
        schedule = defaultdict(self.browse)  # (first failure, next retry): charges
        for charge in self:
            company = charge.subscription_id.company_id
            if company not in retry_days:
                retry_days[company] = company._retention_dunning_days()
            today = charge.subscription_id._today()
            first_failure = charge.first_failure_date or today
            retry_day = next_retry(
                first_failure, charge.attempt_count - 1, retry_days[company], today=today
            )
            schedule[first_failure, retry_day] |= charge
        next_days = {}
        for (first_failure, retry_day), charges in schedule.items():
            charges.write(
                {
                    "state": "failed" if retry_day else "stopped",
                    "first_failure_date": first_failure,
                    "next_retry_date": retry_day or False,
                    "failure_reason": reason,
                }
            )
            next_days.update(dict.fromkeys(charges, retry_day))

        def body_of(charge):
            if next_days[charge]:
                return self.env._(
                    "Payment of %(invoice)s failed: %(reason)s. Next try on %(day)s.",
                    invoice=charge.invoice_id.name,
                    reason=reason,
                    day=format_date(self.env, next_days[charge]),
                )
            return self.env._(
                "Payment of %(invoice)s failed: %(reason)s. No retry left.",
                invoice=charge.invoice_id.name,
                reason=reason,
            )

        self._log_on_subscriptions(body_of)
        template = self.env.ref(
            "retention_loyalty.mail_template_subscription_payment_failed", raise_if_not_found=False
        )
        mailed = self.subscription_id.filtered(lambda subscription: subscription.partner_id.email)
        if template and mailed:
            # One e-mail per subscription, the template rendered for all at
            # once (what message_post_with_source does one by one).
            self.env["mail.compose.message"].with_context(
                default_composition_mode="comment",
                default_model=mailed._name,
                default_res_ids=mailed.ids,
                default_template_id=template.id,
            ).create(
                {
                    "message_type": "comment",
                    "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment"),
                }
            )._action_send_mail()
        self.filtered(lambda charge: not next_days[charge])._give_up()

    def _give_up(self):
        """After the last retry: the subscriptions pause or close, as their
        companies say, and their salespeople get an activity each."""
        if not self:
            return
        subscriptions = self.subscription_id
        to_pause = subscriptions.filtered(
            lambda subscription: (
                subscription.state == "active"
                and subscription.company_id.retention_dunning_final_action == "pause"
            )
        )
        # A subscription the customer paused meanwhile stays paused when the
        # company's final action is a pause.
        to_close = subscriptions.filtered(
            lambda subscription: (
                subscription.state in ("active", "paused")
                and subscription.company_id.retention_dunning_final_action == "close"
            )
        )
        if to_pause:
            to_pause.action_pause()
            to_pause._message_log_batch(
                bodies=dict.fromkeys(to_pause.ids, self.env._("Paused: the payment failed."))
            )
        if to_close:
            # Like the term end: a reason removed from the database all the
            # same closes without one rather than stopping the cron.
            reason = self.env.ref(PAYMENT_FAILED_REASON, raise_if_not_found=False)
            to_close._write_closed(reason or self.env["retention.subscription.close.reason"], False)
        # What activity_schedule does, with each charge's own note.
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(subscriptions._name)
        today = fields.Date.context_today(self)
        self.env["mail.activity"].create(
            [
                {
                    "activity_type_id": activity_type.id,
                    "automated": True,
                    "date_deadline": today,
                    "res_model_id": model_id,
                    "res_id": charge.subscription_id.id,
                    "summary": self.env._(
                        "Payment failed: %(name)s", name=charge.subscription_id.name
                    ),
                    "note": self.env._(
                        "The payment of %(invoice)s failed after every retry (%(reason)s). "
                        "Contact the customer.",
                        invoice=charge.invoice_id.name,
                        reason=charge.failure_reason,
                    ),
                    "user_id": charge.subscription_id.user_id.id or self.env.user.id,
                }
                for charge in self
            ]
        )

    def _stop(self, why):
        """No more retries of these charges: one write, one log per subscription."""
        if not self:
            return
        self.write({"state": "stopped", "next_retry_date": False})
        self._log_on_subscriptions(
            lambda charge: self.env._(
                "Payment retries of %(invoice)s stopped: %(why)s.",
                invoice=charge.invoice_id.name,
                why=why,
            )
        )

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_retry_payments(self, batch_size=200):
        """Retry the failed payments whose day has come (in the company's
        time zone), a batch at a time: locked in one query (a charge another
        worker is retrying is skipped), those of closed subscriptions
        stopped, the others sent together and committed (outside tests) as
        :meth:`_send_request` says. A charge retried today is not due again
        before its next retry day."""
        # The query below reads the table: what this transaction wrote counts.
        self.env.flush_all()
        companies = self.env["res.company"].sudo().search([])  # pylint: disable=no-search-all
        Subscription = self.env["retention.subscription"]
        local_days = SQL(", ").join(
            SQL("(%s, %s::date)", company.id, Subscription._company_today(company))
            for company in companies
        )
        due = SQL(
            """FROM retention_subscription_charge c
                 JOIN (VALUES %s) AS local(company_id, today)
                   ON local.company_id = c.company_id
                WHERE c.state = 'failed' AND c.next_retry_date <= local.today""",
            local_days,
        )
        rows = self.env.execute_query(
            SQL(
                """SELECT c.id %s ORDER BY c.next_retry_date, c.id LIMIT %s
                   FOR UPDATE OF c SKIP LOCKED""",
                due,
                batch_size,
            )
        )
        batch = self.sudo().browse(row[0] for row in rows)
        # More to do (the cron runs again) when the batch is full and others are due.
        remaining = len(batch) == batch_size and bool(
            self.env.execute_query(
                SQL("SELECT 1 %s AND c.id NOT IN %s LIMIT 1", due, tuple(batch.ids))
            )
        )
        batch.invalidate_recordset()  # as locked, not as read before
        closed = batch.filtered(lambda charge: charge.subscription_id.state == "closed")
        closed._stop(self.env._("the subscription is closed"))
        (batch - closed)._send_request(
            commit=not getattr(threading.current_thread(), "testing", False)
        )
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=int(remaining))
