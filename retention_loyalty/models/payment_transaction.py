import logging
from collections import defaultdict
from contextlib import contextmanager

from odoo import SUPERUSER_ID, api, fields, models

_logger = logging.getLogger(__name__)


class PaymentTransaction(models.Model):
    """Transactions charging subscription periods report back to their charge;
    confirmed ones get their payments made, posted and reconciled in batches."""

    _inherit = "payment.transaction"

    retention_charge_id = fields.Many2one(
        "retention.subscription.charge",
        string="Subscription Payment",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )

    @api.constrains("token_id")
    def _check_token_is_active(self):
        """Odoo's check, for each transaction: it reads one at a time, and the
        subscription charges create their transactions together."""
        for transaction in self:
            super(PaymentTransaction, transaction)._check_token_is_active()
        return None

    def _send_to_providers(self):
        """Send each payment request (one call to its provider each); a
        refused request fails its transaction, never the run."""
        for transaction in self:
            try:
                with self.env.cr.savepoint():
                    transaction._send_payment_request()
            except Exception as error:  # pylint: disable=broad-except
                _logger.info("Payment request %s failed: %s", transaction.reference, error)
                transaction._set_error(str(error))

    def _log_message_on_linked_documents(self, message):
        """The notes of a subscription charge (request sent, answer received,
        payment posted) are logged on its invoice as Odoo does, without the
        notification step of ``message_post`` (nobody is notified of a note),
        and, within :meth:`_retention_batched_notes`, all at once."""
        self.ensure_one()
        if not self.retention_charge_id or self.source_transaction_id or self.sale_order_ids:
            return super()._log_message_on_linked_documents(message)
        author = self.env.user.partner_id if self.env.uid == SUPERUSER_ID else self.partner_id
        notes = self.env.context.get("retention_transaction_notes")
        if notes is not None:
            notes.append((author.id, self.invoice_ids.ids, message))
            return None
        invoices = self.invoice_ids
        return invoices._message_log_batch(
            bodies=dict.fromkeys(invoices.ids, message), author_id=author.id
        )

    @contextmanager
    def _retention_batched_notes(self):
        """These transactions, whose notes on their invoices are gathered,
        then logged in a few batches (one per author and rank of the note
        on its invoice, keeping their order)."""
        notes = []
        yield self.with_context(retention_transaction_notes=notes)
        rounds = defaultdict(dict)  # (rank, author): {invoice id: message}
        ranks = defaultdict(int)
        for author_id, invoice_ids, message in notes:
            for invoice_id in invoice_ids:
                rounds[ranks[invoice_id], author_id][invoice_id] = message
                ranks[invoice_id] += 1
        Move = self.env["account.move"]
        for (_rank, author_id), bodies in sorted(rounds.items()):
            Move.browse(bodies)._message_log_batch(bodies=bodies, author_id=author_id)

    def _post_process(self):
        """Odoo creates and reconciles the payment of a confirmed transaction
        (account_payment), one at a time; those of subscription charges are
        made here first, all at once, so that Odoo only logs them. Then the
        charges are paid, or, for refused transactions, failed (and retried)."""
        self._retention_create_payments()
        res = super()._post_process()
        charged = self.filtered(
            lambda tx: tx.retention_charge_id and tx.state in ("done", "cancel", "error")
        )
        if charged:
            self.env["retention.subscription.charge"]._on_transaction_results(charged)
        return res

    def _retention_create_payments(self):
        """Odoo's ``_create_payment`` for the confirmed subscription charges,
        batched: the payments created and posted together, and each
        reconciled with its invoice in a single reconciliation plan. Invoices
        with an early payment discount are left to Odoo (its write-off line)."""
        transactions = self.filtered(
            lambda tx: (
                tx.retention_charge_id
                and tx.state == "done"
                and tx.operation == "offline"
                and not tx.payment_id
                and not tx.is_post_processed
                and not tx.child_transaction_ids
                and tx.amount > 0
                and all(
                    invoice.state == "posted" and not invoice.invoice_payment_term_id.early_discount
                    for invoice in tx.invoice_ids
                )
            )
        )
        if not transactions:
            return
        method_lines = {}
        values_list = []
        for transaction in transactions:
            provider = transaction.provider_id
            if provider not in method_lines:
                method_lines[provider] = (
                    provider.journal_id.inbound_payment_method_line_ids.filtered(
                        lambda line, provider=provider: line.payment_provider_id == provider
                    )
                )
            values_list.append(
                {
                    "amount": transaction.amount,
                    "payment_type": "inbound",
                    "currency_id": transaction.currency_id.id,
                    "partner_id": transaction.partner_id.commercial_partner_id.id,
                    "partner_type": "customer",
                    "journal_id": provider.journal_id.id,
                    "company_id": provider.company_id.id,
                    "payment_method_line_id": method_lines[provider].id,
                    "payment_token_id": transaction.token_id.id,
                    "payment_transaction_id": transaction.id,
                    "memo": f"{transaction.reference} - "
                    f"{transaction.partner_id.display_name or ''} - "
                    f"{transaction.provider_reference or ''}",
                    "invoice_ids": transaction.invoice_ids,
                }
            )
        # As Odoo does it, in the company of the provider (one per transaction).
        payments = self.env["account.payment"]
        for company, batch in transactions.grouped("company_id").items():
            company_values = [
                values
                for values, transaction in zip(values_list, transactions, strict=True)
                if transaction in batch
            ]
            payments |= self.env["account.payment"].with_company(company).create(company_values)
        payments.action_post()
        plan = []
        for payment in payments:
            transaction = payment.payment_transaction_id
            transaction.payment_id = payment
            plan.append(
                (payment.move_id.line_ids + transaction.invoice_ids.line_ids).filtered(
                    lambda line, payment=payment: (
                        line.account_id == payment.destination_account_id and not line.reconciled
                    )
                )
            )
        self.env["account.move.line"]._reconcile_plan(plan)
