import logging

from psycopg2.errors import SerializationFailure, UniqueViolation

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    """Credit notes take back the loyalty points of the orders they refund;
    the invoices of subscription periods charge the saved payment method."""

    _inherit = "account.move"

    retention_subscription_id = fields.Many2one(
        "retention.subscription",
        string="Subscription",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
    )
    retention_subscription_period = fields.Integer(
        string="Subscription Period",
        readonly=True,
        copy=False,
        help="Index of the subscription's period this invoice bills (0 is the first).",
    )
    retention_change_order_id = fields.Many2one(
        "sale.order",
        string="Subscription Change",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The prorated change of the subscription this invoice (or credit note) bills, "
        "within its period.",
    )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._retention_sync_refunded_orders()
        posted._retention_evaluate_clubs()
        refunds = posted.filtered(lambda move: move.move_type == "out_refund")
        if refunds:
            refunds._retention_referral_refunds()
        if not self.env.context.get("retention_charge_later"):
            posted.filtered(
                lambda move: (
                    move.move_type == "out_invoice"
                    and move.retention_subscription_id.sudo().payment_token_id
                )
            )._retention_charge()
        return posted

    # ------------------------------------------------------------------ subscriptions

    def _retention_send_invoices(self):
        """E-mail posted invoices with Odoo's invoice template, rendered for
        all of them at once; without the PDF (the customer opens the invoice
        online), so that a server without wkhtmltopdf never fails a run."""
        template = self.env.ref("account.email_template_edi_invoice", raise_if_not_found=False)
        invoices = self.filtered(lambda move: move.state == "posted" and move.partner_id.email)
        if not template or not invoices:
            return
        rendered = template._generate_template(
            invoices.ids,
            ("subject", "body_html", "email_from", "partner_to", "email_to", "email_cc"),
            find_or_create_partners=True,
        )
        for invoice in invoices:
            values = rendered[invoice.id]
            invoice.with_context(mail_notify_force_send=False).message_post(
                subject=values.get("subject"),
                body=values.get("body_html"),
                email_from=values.get("email_from"),
                partner_ids=values.get("partner_ids", []),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                email_layout_xmlid="mail.mail_notification_layout_with_responsible_signature",
            )
        invoices.write({"is_move_sent": True})

    @api.model
    def _retention_open_subscription_invoices(
        self, subscriptions=None, shard=0, shards=1, limit=None
    ):
        """Posted, unpaid invoices of subscriptions' periods (and prorated
        changes) with a saved payment method that no charge has been made
        for (of ``subscriptions``, or of the cron shard)."""
        if subscriptions is not None and not subscriptions:
            return self.browse()
        rows = self.env.execute_query(
            SQL(
                """SELECT m.id FROM account_move m
                     JOIN retention_subscription s ON s.id = m.retention_subscription_id
                    WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
                      AND m.payment_state IN ('not_paid', 'partial')
                      AND s.payment_token_id IS NOT NULL
                      AND %s
                      AND NOT EXISTS (
                          SELECT 1 FROM retention_subscription_charge c
                           WHERE c.subscription_id = s.id
                             AND c.period = m.retention_subscription_period
                             AND COALESCE(c.change_order_id, 0)
                               = COALESCE(m.retention_change_order_id, 0))
                 ORDER BY m.id %s""",
                SQL("s.id IN %s", tuple(subscriptions.ids))
                if subscriptions is not None
                else SQL("mod(s.partner_id, %s) = %s", shards, shard),
                SQL("LIMIT %s", limit) if limit else SQL(),
            )
        )
        return self.browse(row[0] for row in rows)

    def _retention_charge(self, commit=False):
        """Charge the saved payment method of these period invoices'
        subscriptions, once per period: the charge row is unique per
        (subscription, period), so a second run, or another worker, finds
        it and charges nothing. All at once: the charge rows, the
        transactions, then the payments and their reconciliation. With
        ``commit`` (the cron), the charge rows and their transactions are
        committed before the requests go to the providers, their answers
        before the payments are made (Odoo's post-processing cron finishes
        those after a crash)."""
        charges = self._retention_create_charges()
        if not charges:
            return
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        charges._send_request(commit=commit)

    def _retention_create_charges(self):
        """The charge rows of these invoices' periods, in one insert; when a
        period already has one (another worker, a second run), one at a time
        so that only those are left out."""
        Charge = self.env["retention.subscription.charge"].sudo()
        values_list = [
            {
                "subscription_id": invoice.retention_subscription_id.id,
                "period": invoice.retention_subscription_period,
                "change_order_id": invoice.retention_change_order_id.id,
                "invoice_id": invoice.id,
            }
            for invoice in self.sudo()
        ]
        if not values_list:
            return Charge
        try:
            with self.env.cr.savepoint():
                return Charge.create(values_list)
        except (UniqueViolation, SerializationFailure):
            _logger.info("Some periods were charged by another run; charging the others one by one")
        charges = Charge
        for values in values_list:
            try:
                with self.env.cr.savepoint():
                    charges |= Charge.create(values)
            except (UniqueViolation, SerializationFailure):
                continue  # charged by another run
        return charges

    def _retention_evaluate_clubs(self):
        """Where revenue comes from posted invoices, posting one may lift its
        customer to a higher club level at once (never lower: that waits for
        the daily run and its grace period)."""
        moves = self.filtered(
            lambda move: (
                move.is_sale_document() and move.company_id.retention_revenue_source == "invoices"
            )
        )
        companies = self.env["retention.club"]._retention_setup()["qualified_company_ids"] & set(
            moves.company_id.ids
        )
        if companies:
            self.env["retention.club.membership"]._evaluate_qualified(
                partner_ids=moves.partner_id.commercial_partner_id.ids,
                allow_downgrade=False,
                company_ids=list(companies),
            )

    def button_draft(self):
        refunds = self.filtered(lambda move: move.state == "posted")
        res = super().button_draft()
        refunds._retention_sync_refunded_orders()
        refunds._retention_referral_refunds_undone()
        return res

    def button_cancel(self):
        refunds = self.filtered(lambda move: move.state == "posted")
        undone = self.filtered(lambda move: move.state != "cancel")
        res = super().button_cancel()
        refunds._retention_sync_refunded_orders()
        undone._retention_referral_refunds_undone()
        return res

    def _invoice_paid_hook(self):
        """Paid memberships that wait for their invoice start when it is paid;
        the referral of a first order paid is rewarded."""
        res = super()._invoice_paid_hook()
        self._retention_reward_referrals()
        invoices = self.filtered(lambda move: move.move_type == "out_invoice")
        lines = invoices.invoice_line_ids
        if lines.sale_line_ids:
            # Only the invoice that bills the membership product starts it.
            waiting = (
                self.env["retention.club.membership"]
                .sudo()
                .search(
                    [
                        ("order_id", "in", lines.sale_line_ids.order_id.ids),
                        ("awaiting_payment", "=", True),
                        ("club_id.product_id", "in", lines.product_id.ids),
                    ]
                )
            )
            waiting._start_on_payment(fields.Date.context_today(self))
        return res

    def _retention_sync_refunded_orders(self):
        for move in self.filtered(lambda move: move.move_type == "out_refund"):
            move.sudo().invoice_line_ids.sale_line_ids.order_id._retention_sync_refunds(move)

    def _retention_reward_referrals(self):
        orders = self.filtered(
            lambda move: move.move_type == "out_invoice"
        ).invoice_line_ids.sale_line_ids.order_id
        if orders:
            self.env["retention.referral"].sudo().search(
                [("first_order_id", "in", orders.ids), ("state", "=", "pending")]
            )._retention_reward()

    def _retention_referral_refunds_undone(self):
        """Credit notes reset to draft or cancelled: the referrals they took
        back wait again, and those whose first order is paid (again) are
        rewarded."""
        refunds = self.filtered(lambda move: move.move_type == "out_refund")
        if not refunds:
            return
        orders = refunds.sudo().invoice_line_ids.sale_line_ids.order_id
        self.env["retention.referral"].sudo().search(
            [
                "|",
                ("refund_move_id", "in", refunds.ids),
                ("first_order_id", "in", orders.ids),
                ("state", "!=", "rewarded"),
            ]
        )._retention_refund_undone(refunds)

    def _retention_referral_refunds(self):
        orders = self.sudo().invoice_line_ids.sale_line_ids.order_id
        referrals = (
            self.env["retention.referral"]
            .sudo()
            .search([("first_order_id", "in", orders.ids), ("state", "!=", "cancelled")])
        )
        if not referrals:
            return
        refunded = referrals.first_order_id._retention_refunded_amounts()
        for referral in referrals:
            order = referral.first_order_id
            if (
                order.currency_id.compare_amounts(refunded.get(order.id, 0.0), order.amount_untaxed)
                < 0
            ):
                continue  # a partial refund keeps the referral
            move = self.filtered(
                lambda move, order=order: order in move.invoice_line_ids.sale_line_ids.order_id
            )[:1]
            referral._retention_take_back(
                "refund",
                self.env._(
                    "First order %(order)s refunded by %(move)s.", order=order.name, move=move.name
                ),
                move=move,
            )
