import logging
import threading

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError

from .res_company import INVOICE_POLICY_SELECTION

_logger = logging.getLogger(__name__)


class RetentionSubscription(models.Model):
    """Billing of subscriptions: an invoice per period (by policy), the
    customer's saved payment method charged when it is posted, and the
    retries of failed payments (see retention.subscription.charge)."""

    _inherit = "retention.subscription"

    invoice_policy = fields.Selection(
        INVOICE_POLICY_SELECTION,
        required=True,
        default=lambda self: self.env.company.retention_subscription_invoice_policy,
        tracking=True,
        help="What becomes of each period's order once confirmed: nothing (invoiced as "
        "usual), a draft invoice, a posted invoice, or a posted invoice e-mailed to the "
        "customer. Periods are billed in advance, whatever the products' invoicing policy.",
    )
    payment_term_id = fields.Many2one(
        "account.payment.term",
        compute="_compute_payment_term_id",
        store=True,
        readonly=False,
        check_company=True,
        tracking=True,
    )
    payment_token_id = fields.Many2one(
        "payment.token",
        string="Payment Method",
        domain="[('partner_id.commercial_partner_id', '=', partner_id), "
        "('provider_id.state', 'in', ('enabled', 'test')), "
        "('provider_id.company_id', '=', company_id)]",
        copy=False,
        tracking=True,
        help="Saved payment method charged when a period's invoice is posted.",
    )
    invoice_ids = fields.One2many(
        "account.move", "retention_subscription_id", string="Invoices", readonly=True
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    charge_ids = fields.One2many(
        "retention.subscription.charge",
        "subscription_id",
        string="Payments",
        readonly=True,
        groups="base.group_user",
    )
    dunning_charge_id = fields.Many2one(
        "retention.subscription.charge",
        compute="_compute_dunning_charge_id",
        string="Failed Payment",
        help="The latest payment that failed (being retried, or given up).",
    )

    @api.depends("partner_id", "company_id")
    def _compute_payment_term_id(self):
        for subscription in self:
            subscription.payment_term_id = subscription.partner_id.with_company(
                subscription.company_id
            ).property_payment_term_id

    def _compute_invoice_count(self):
        counts = dict(
            self.env["account.move"]._read_group(
                [("retention_subscription_id", "in", self.ids)],
                ["retention_subscription_id"],
                ["__count"],
            )
        )
        for subscription in self:
            subscription.invoice_count = counts.get(subscription, 0)

    def _compute_dunning_charge_id(self):
        charges = (
            self.env["retention.subscription.charge"]
            .sudo()
            .search(
                [("subscription_id", "in", self.ids), ("state", "in", ("failed", "stopped"))],
                order="id desc",
            )
        )
        latest = {}
        for charge in charges:
            latest.setdefault(charge.subscription_id.id, charge)
        for subscription in self:
            subscription.dunning_charge_id = latest.get(subscription.id, False)

    @api.constrains("payment_token_id", "partner_id", "company_id")
    def _check_payment_token(self):
        for subscription in self.sudo().filtered("payment_token_id"):
            if not subscription._is_usable_token(subscription.payment_token_id):
                raise ValidationError(
                    self.env._(
                        "Subscription %(name)s: the payment method must be an active one of "
                        "the customer, with a payment provider enabled in the company.",
                        name=subscription.name,
                    )
                )

    def _payment_tokens(self):
        """The saved payment methods the customer may use for this subscription."""
        self.ensure_one()
        return (
            self.env["payment.token"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", self.partner_id.commercial_partner_id.id),
                    ("provider_id.state", "in", ("enabled", "test")),
                    ("provider_id.company_id", "=", self.company_id.id),
                ]
            )
        )

    def _is_usable_token(self, token):
        self.ensure_one()
        token = token.sudo()
        return bool(
            token.exists()
            and token.active
            and token.partner_id.commercial_partner_id == self.partner_id.commercial_partner_id
            and token.provider_id.state in ("enabled", "test")
            and token.provider_id.company_id == self.company_id
        )

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("retention_subscription_id", "=", self.id)]
        action["context"] = {"create": False, "default_move_type": "out_invoice"}
        return action

    def _order_values(self, period):
        values = super()._order_values(period)
        if self.payment_term_id:
            values["payment_term_id"] = self.payment_term_id.id
        return values

    def _write_closed(self, reason, note):
        """A subscription that closes (the customer, say) stops its payment retries."""
        self.env["retention.subscription.charge"].sudo().search(
            [("subscription_id", "in", self.ids), ("state", "=", "failed")]
        )._stop(self.env._("the subscription closed"))
        return super()._write_closed(reason, note)

    # ------------------------------------------------------------------ invoices

    def _invoice_period_orders(self, orders):
        """The invoices of confirmed period orders, and of prorated change
        orders, as their subscriptions' policies say: for the ordered
        quantities (a period is billed in advance), a period's dated on its
        start, a change's on the day it was made (a credit note when it
        takes more off than it adds), with the subscription's payment terms.
        Posting an invoice charges the saved payment method, except while
        the subscriptions order their due periods: there, charges wait until
        the orders are made (the cron: committed), so that a batch rolled
        back never loses a charge made. Returns the invoices."""
        orders = orders.filtered(
            lambda order: (
                order.state == "sale"
                and order._retention_billing_subscription().invoice_policy not in (False, "none")
                and not order.invoice_ids
            )
        )
        Move = self.env["account.move"]
        if not orders:
            return Move
        vals_list = []
        for order in orders:
            subscription = order._retention_billing_subscription()
            values = order._prepare_invoice()
            values["invoice_line_ids"] = [
                Command.create(
                    line._prepare_invoice_line(
                        sequence=sequence,
                        quantity=0.0 if line.display_type else line.product_uom_qty,
                    )
                )
                for sequence, line in enumerate(order.order_line, start=1)
                if not line.is_downpayment and (line.display_type or line.product_uom_qty)
            ]
            change_order = order.filtered("retention_subscription_change_id")
            if change_order:
                period = subscription.next_period - 1
                invoice_date = subscription._today()
            else:
                period = order.retention_subscription_period
                invoice_date = subscription._recurrence().period_start(
                    subscription.date_start, period
                )
            values.update(
                {
                    "invoice_date": invoice_date,
                    "invoice_payment_term_id": subscription.payment_term_id.id,
                    "retention_subscription_id": subscription.id,
                    "retention_subscription_period": period,
                    "retention_change_order_id": change_order.id,
                }
            )
            vals_list.append(values)
        # The subscription's policy decides, not the rights of whoever made
        # the order: making the order already required sales rights.
        invoices = Move.sudo().with_context(default_move_type="out_invoice").create(vals_list)
        # A change that credits more than it charges: a credit note, as Odoo's
        # own invoicing of an order with a negative total does.
        invoices.filtered(
            lambda move: (
                move.retention_change_order_id
                and move.currency_id.compare_amounts(move.amount_total, 0.0) < 0
            )
        ).action_switch_move_type()
        to_post = invoices.filtered(
            lambda move: move.retention_subscription_id.invoice_policy in ("posted", "posted_sent")
        )
        to_post.action_post()
        to_post.filtered(
            lambda move: move.retention_subscription_id.invoice_policy == "posted_sent"
        )._retention_send_invoices()
        return invoices.with_env(self.env)

    # ------------------------------------------------------------------ charges

    def _order_due_periods(self, today=None):
        """Orders (and invoices) of the due periods, then the charges of the
        posted invoices. The cron charges after committing the invoices."""
        orders, busy = super(
            RetentionSubscription, self.with_context(retention_charge_later=True)
        )._order_due_periods(today)
        orders, busy = orders.with_env(self.env), busy.with_env(self.env)
        charged = self.filtered(
            lambda subscription: (
                subscription.payment_token_id
                and subscription.invoice_policy in ("posted", "posted_sent")
            )
        )
        if charged and not self.env.context.get("retention_charge_later"):
            self.env["account.move"]._retention_open_subscription_invoices(
                subscriptions=charged
            )._retention_charge()
        return orders, busy

    @api.model
    def _cron_generate_orders(self, batch_size=500, shard=0, shards=1):
        """Then charge the posted, unpaid invoices of the shard's subscriptions
        that have no charge yet: the new ones and any left by a crash between
        invoice and payment. A period is charged once: its charge row is
        unique, and committed before the payment request is sent."""
        res = super(
            RetentionSubscription, self.with_context(retention_charge_later=True)
        )._cron_generate_orders(batch_size=batch_size, shard=shard, shards=shards)
        invoices = self.env["account.move"]._retention_open_subscription_invoices(
            shard=shard, shards=shards, limit=batch_size + 1
        )
        batch = invoices[:batch_size]
        batch._retention_charge(commit=not getattr(threading.current_thread(), "testing", False))
        progress_id = self.env.context.get("ir_cron_progress_id")
        if progress_id:
            progress = self.env["ir.cron.progress"].sudo().browse(progress_id)
            self.env["ir.cron"]._notify_progress(
                done=progress.done + len(batch),
                remaining=progress.remaining + len(invoices) - len(batch),
            )
        return res
