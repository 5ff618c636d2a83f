import logging
import threading
import time as sleep_time
from datetime import datetime, time, timedelta

import pytz

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_compare, format_amount, format_date

from ..engine.recurrence import (
    Recurrence,
    Schedule,
    check_dates,
    due_periods,
    last_period_start,
    next_term,
    remaining_share,
)
from .retention_customer_month import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)

MAX_PERIODS_PER_RUN = 12
# Tries of a run for subscriptions whose customer another transaction holds.
BUSY_RETRIES = 2
UNIT_SELECTION = [("day", "Days"), ("week", "Weeks"), ("month", "Months"), ("year", "Years")]


class RetentionSubscription(models.Model):
    """A customer's standing order: one real sales order per period."""

    _name = "retention.subscription"
    _description = "Subscription"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        required=True, copy=False, readonly=True, default=lambda self: self.env._("New")
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="[('type', '!=', 'private')]",
    )
    partner_invoice_id = fields.Many2one(
        "res.partner",
        string="Invoice Address",
        compute="_compute_addresses",
        store=True,
        readonly=False,
        check_company=True,
    )
    partner_shipping_id = fields.Many2one(
        "res.partner",
        string="Delivery Address",
        compute="_compute_addresses",
        store=True,
        readonly=False,
        check_company=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        default=lambda self: self.env.user,
        tracking=True,
        domain="[('share', '=', False)]",
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        compute="_compute_pricelist_id",
        store=True,
        readonly=False,
        check_company=True,
        tracking=True,
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id", store=True)
    price_mode = fields.Selection(
        [("pricelist", "Price list at each order"), ("frozen", "Prices of the subscription")],
        default="frozen",
        required=True,
        tracking=True,
    )
    line_ids = fields.One2many("retention.subscription.line", "subscription_id", copy=True)
    interval = fields.Integer(string="Every", default=1, required=True, tracking=True)
    interval_unit = fields.Selection(UNIT_SELECTION, default="month", required=True, tracking=True)
    recurrence_schedule = fields.Json(
        copy=False,
        readonly=True,
        help="Technical: the recurrences of a subscription whose recurrence changed, each with "
        "the first period it rules (empty while it never changed).",
    )
    recurrence_label = fields.Char(string="Recurrence", compute="_compute_recurrence_label")
    date_start = fields.Date(
        string="Start", required=True, default=fields.Date.context_today, tracking=True
    )
    date_end = fields.Date(string="End", tracking=True, help="Last day a period may start.")
    max_periods = fields.Integer(
        string="Number of Periods", help="Fixed number of orders; 0 runs until closed."
    )
    next_period = fields.Integer(
        default=0, copy=False, readonly=True, help="Index of the next period to order."
    )
    skipped_period = fields.Integer(
        default=-1,
        copy=False,
        readonly=True,
        help="Index of the last period the customer skipped (-1: none).",
    )
    price_notice_period = fields.Integer(
        default=-1,
        copy=False,
        readonly=True,
        help="First period at the prices last announced to the customer (-1: none).",
    )
    term_periods = fields.Integer(
        copy=False,
        readonly=True,
        help="Periods per term of a fixed-term subscription, set when a renewal is first "
        "proposed: each renewal adds a term of this length.",
    )
    next_date = fields.Date(
        string="Next Order", compute="_compute_next_date", store=True, index=True
    )
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("paused", "Paused"), ("closed", "Closed")],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    resume_date = fields.Date(
        string="Resume On",
        readonly=True,
        copy=False,
        tracking=True,
        help="Day a paused subscription resumes by itself (chosen when pausing it).",
    )
    date_closed = fields.Date(readonly=True, copy=False)
    close_reason_id = fields.Many2one(
        "retention.subscription.close.reason", readonly=True, copy=False, tracking=True
    )
    close_note = fields.Text(readonly=True, copy=False, groups="base.group_user")
    auto_confirm = fields.Boolean(
        string="Confirm Orders", default=True, help="Confirm the orders as they are created."
    )
    reminder_days = fields.Integer(
        string="Reminder (days before end)",
        default=14,
        groups="base.group_user",
        help="An activity for the salesperson (and an email to the customer, if set) this "
        "many days before a fixed-term subscription ends.",
    )
    send_reminder_email = fields.Boolean(string="Email the Customer", groups="base.group_user")
    reminder_done = fields.Boolean(copy=False, readonly=True, groups="base.group_user")
    origin_order_id = fields.Many2one("sale.order", string="From Order", copy=False, readonly=True)
    requested_by_id = fields.Many2one(
        "res.partner",
        string="Asked For By",
        copy=False,
        readonly=True,
        help="The customer's contact who asked for this standing order on the portal's Quick "
        "reorder page.",
    )
    order_ids = fields.One2many("sale.order", "retention_subscription_id", string="Orders")
    order_count = fields.Integer(compute="_compute_order_count")
    event_ids = fields.One2many(
        "retention.subscription.event", "subscription_id", groups="base.group_user"
    )
    amount_per_period = fields.Monetary(
        compute="_compute_amounts", store=True, help="Untaxed amount of one period's order."
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    mrr = fields.Monetary(
        string="MRR",
        compute="_compute_amounts",
        store=True,
        currency_field="company_currency_id",
        groups="base.group_user",
        help="Monthly recurring revenue in the company's currency: the amount of a period "
        "spread over its months (converted at the rate of the day it was last computed).",
    )
    last_error = fields.Text(readonly=True, copy=False, groups="base.group_user")
    error_date = fields.Date(
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Day of the last failure: retried the next day.",
    )

    @api.depends("partner_id")
    def _compute_addresses(self):
        for subscription in self:
            addresses = subscription.partner_id.address_get(["invoice", "delivery"])
            subscription.partner_invoice_id = addresses["invoice"]
            subscription.partner_shipping_id = addresses["delivery"]

    @api.depends("partner_id", "company_id")
    def _compute_pricelist_id(self):
        for subscription in self:
            subscription.pricelist_id = subscription.partner_id.with_company(
                subscription.company_id
            ).property_product_pricelist

    @api.depends("pricelist_id", "company_id")
    def _compute_currency_id(self):
        for subscription in self:
            subscription.currency_id = (
                subscription.pricelist_id.currency_id or subscription.company_id.currency_id
            )

    @api.depends("line_ids.price_subtotal", "interval", "interval_unit", "currency_id")
    def _compute_amounts(self):
        for subscription in self:
            amount = sum(subscription.line_ids.mapped("price_subtotal"))
            subscription.amount_per_period = amount
            monthly = (
                subscription._recurrence().monthly_amount(amount)
                if subscription.interval > 0
                else 0
            )
            company = subscription.company_id or self.env.company
            currency = subscription.currency_id or company.currency_id
            subscription.mrr = currency._convert(
                monthly, company.currency_id, company, fields.Date.context_today(self)
            )

    @api.depends(
        "date_start", "next_period", "interval", "interval_unit", "recurrence_schedule", "state"
    )
    def _compute_next_date(self):
        for subscription in self:
            if subscription.state != "active" or subscription.interval <= 0:
                subscription.next_date = False
                continue
            subscription.next_date = subscription._recurrence().period_start(
                subscription.date_start, subscription.next_period
            )

    def _compute_order_count(self):
        counts = dict(
            self.env["sale.order"]._read_group(
                [("retention_subscription_id", "in", self.ids)],
                ["retention_subscription_id"],
                ["__count"],
            )
        )
        for subscription in self:
            subscription.order_count = counts.get(subscription, 0)

    def _compute_access_url(self):
        for subscription in self:
            subscription.access_url = f"/my/subscriptions/{subscription.id}"

    @api.constrains(
        "interval", "interval_unit", "recurrence_schedule", "date_start", "date_end", "max_periods"
    )
    def _check_recurrence(self):
        for subscription in self:
            try:
                schedule = subscription._recurrence()
                schedule.validate()
                if schedule.recurrence != Recurrence(
                    subscription.interval, subscription.interval_unit
                ):
                    raise ValueError("its recurrences do not end with the current one.")
                check_dates(
                    subscription.date_start,
                    subscription.date_end or None,
                    subscription.max_periods or None,
                )
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "Subscription %(name)s: %(error)s", name=subscription.name, error=error
                    )
                ) from error

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", self.env._("New")) == self.env._("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("retention.subscription") or "/"
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("partner_id"):
            vals["partner_id"] = (
                self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
            )
        started = self.filtered(lambda subscription: subscription.state != "draft")
        if started and "date_start" in vals:
            raise UserError(
                self.env._(
                    "The start of a started subscription cannot change; close it and start a new "
                    "one."
                )
            )
        if started and {"interval", "interval_unit", "recurrence_schedule"} & set(vals):
            started._check_schedule_keeps_the_past(vals)
        if {"date_end", "max_periods"} & set(vals):
            vals["reminder_done"] = False
        if {"pricelist_id", "line_ids", "interval", "interval_unit"} & set(vals):
            self._watch_mrr()
        return super().write(vals)

    # Where the MRR of running subscriptions is remembered before a change,
    # until the transaction commits.
    _MRR_WATCH_KEY = "retention.subscription.mrr_before"

    def _watch_mrr(self):
        """Remember the MRR of these running subscriptions before they change:
        when the transaction commits, each one whose MRR moved gets one "MRR
        changed" event, however many writes changed it (as Odoo's tracking)."""
        running = self.sudo().filtered(lambda subscription: subscription.state == "active")
        if not running:
            return
        watched = self.env.cr.precommit.data.setdefault(self._MRR_WATCH_KEY, {})
        for subscription in running:
            watched.setdefault(subscription.id, subscription.mrr)
        self.env.cr.precommit.add(self.env["retention.subscription"]._log_mrr_changes)

    @api.model
    def _log_mrr_changes(self):
        watched = self.env.cr.precommit.data.pop(self._MRR_WATCH_KEY, {})
        if not watched:
            return
        subscriptions = self.sudo().browse(list(watched)).exists()
        changed = subscriptions.filtered(
            lambda subscription: (
                subscription.state == "active"
                and subscription.company_currency_id.compare_amounts(
                    subscription.mrr, watched[subscription.id]
                )
            )
        )
        for subscription in changed:
            subscription._log_event("change", mrr_before=watched[subscription.id])
        self.env.flush_all()

    def _recurrence(self):
        """The subscription's :class:`Schedule`: its recurrence, and the
        former ones for the periods they ruled when it changed."""
        self.ensure_one()
        if self.recurrence_schedule:
            return Schedule.from_dicts(self.recurrence_schedule)
        return Schedule.single(Recurrence(self.interval, self.interval_unit), self.date_start)

    def _today(self):
        """Today in the company's time zone (its address's), where periods fall."""
        self.ensure_one()
        return self._company_today(self.company_id)

    def _term_end(self):
        """The day a fixed-term subscription's term is over (the day after its
        end date, or the day its next period would start); None when open."""
        self.ensure_one()
        last = self._last_period_start()
        if last is None:
            return None
        recurrence = self._recurrence()
        following = recurrence.period_start(
            self.date_start, recurrence.first_period_from(self.date_start, last) + 1
        )
        if self.date_end:
            following = min(following, self.date_end + timedelta(days=1))
        return following

    @api.depends("interval", "interval_unit")
    def _compute_recurrence_label(self):
        for subscription in self:
            subscription.recurrence_label = subscription._recurrence_label()

    def _recurrence_label(self):
        """How often, in words a customer reads: "Every month", "Every 2 months"."""
        self.ensure_one()
        count = self.interval
        if count == 1:
            return {
                "day": self.env._("Every day"),
                "week": self.env._("Every week"),
                "month": self.env._("Every month"),
                "year": self.env._("Every year"),
            }[self.interval_unit]
        return {
            "day": self.env._("Every %(count)s days", count=count),
            "week": self.env._("Every %(count)s weeks", count=count),
            "month": self.env._("Every %(count)s months", count=count),
            "year": self.env._("Every %(count)s years", count=count),
        }[self.interval_unit]

    def _noon_utc(self, day):
        """Noon of ``day`` in the company's time zone, as Odoo stores it (UTC)."""
        self.ensure_one()
        tz = pytz.timezone(self.company_id.partner_id.tz or self.env.user.tz or "UTC")
        return (
            tz.localize(datetime.combine(day, time(12))).astimezone(pytz.UTC).replace(tzinfo=None)
        )

    def _last_period_start(self):
        self.ensure_one()
        return last_period_start(
            self._recurrence(), self.date_start, self.date_end or None, self.max_periods or None
        )

    # ------------------------------------------------------------------ self-service

    def _skip_refusal(self):
        """Why the next order cannot be skipped (False when it can)."""
        self.ensure_one()
        if self.state != "active" or not self.next_date:
            return self.env._("Only running subscriptions can skip an order.")
        if self.next_date <= self._today():
            return self.env._("The next order is already being prepared: it cannot be skipped.")
        last = self._last_period_start()
        if last is not None and self.next_date > last:
            return self.env._("There is no order left to skip.")
        if self.skipped_period >= 0 and self.skipped_period == self.next_period - 1:
            return self.env._("The order before was skipped: you can skip one order at a time.")
        return False

    def action_skip_next_order(self):
        """Skip the next period: no order for it. One period at a time: the
        period before must have been ordered."""
        for subscription in self:
            refusal = subscription._skip_refusal()
            if refusal:
                raise UserError(refusal)
            skipped_day = subscription.next_date
            subscription.write(
                {
                    "skipped_period": subscription.next_period,
                    "next_period": subscription.next_period + 1,
                }
            )
            subscription.message_post(
                body=self.env._(
                    "The order of %(day)s is skipped.", day=format_date(self.env, skipped_day)
                )
            )
        self._close_finished()

    def _prorate(self, changes):
        """Charge (or credit) ``changes`` of services for the rest of the
        current period at once, in an order of their own, when the company
        applies changes now: [(product, unit, quantity, price, discount)],
        negative quantities taken off. Goods wait for the next order."""
        self.ensure_one()
        if self.company_id.retention_subscription_change_mode != "now" or self.state != "active":
            return self.env["sale.order"]
        period = self.next_period - 1
        today = self._today()
        share = (
            remaining_share(self._recurrence(), self.date_start, period, today)
            if period >= 0
            else 0.0
        )
        services = [change for change in changes if change[0].type == "service" and change[2]]
        if not share or not services:
            return self.env["sale.order"]
        following = self._recurrence().period_start(self.date_start, period + 1)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner_id.id,
                "partner_invoice_id": self.partner_invoice_id.id,
                "partner_shipping_id": self.partner_shipping_id.id,
                "pricelist_id": self.pricelist_id.id,
                "company_id": self.company_id.id,
                "user_id": self.user_id.id,
                "origin": self.name,
                "retention_subscription_change_id": self.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom": unit.id,
                            "product_uom_qty": quantity,
                            "price_unit": self.currency_id.round(price * share),
                            "discount": discount,
                            "name": self.env._(
                                "%(product)s: %(change)s from %(first)s to %(last)s",
                                product=product.display_name,
                                change=self.env._("added")
                                if quantity > 0
                                else self.env._("taken off"),
                                first=format_date(self.env, today),
                                last=format_date(self.env, following - timedelta(days=1)),
                            ),
                        }
                    )
                    for product, unit, quantity, price, discount in services
                ],
            }
        )
        order.action_confirm()
        self.message_post(
            body=self.env._(
                "Changed now: %(order)s charges %(amount)s for the rest of the period.",
                order=order._get_html_link(),
                amount=format_amount(self.env, order.amount_untaxed, order.currency_id),
            )
        )
        return order

    def _upcoming_price(self, line, day):
        """The unit price of ``line`` in an order of ``day``, before any notice."""
        if self.price_mode == "frozen":
            return line.price_unit
        if not self.pricelist_id:
            return line.product_id.lst_price
        return self.pricelist_id._get_product_price(
            line.product_id, line.quantity, uom=line.product_uom_id, date=day
        )

    def _last_order_before(self, period):
        return self.order_ids.filtered(
            lambda order: order.state == "sale" and order.retention_subscription_period < period
        ).sorted("retention_subscription_period")[-1:]

    def _held_prices(self, period):
        """{line: last price} of the increases an order of ``period`` may not
        apply yet: not announced for this period or one before it since the
        last order."""
        if not self.company_id.retention_price_notice_days:
            return {}
        last_period = self._last_order_before(period).retention_subscription_period
        announced = 0 <= self.price_notice_period <= period and (
            not self._last_order_before(period) or last_period < self.price_notice_period
        )
        if announced:
            return {}
        return {change["line"]: change["old_price"] for change in self._price_increases(period)}

    def _price_increases(self, period):
        """Lines dearer in an order of ``period`` than in the last order made:
        [{line, product, old_price, new_price, old, new (formatted)}]."""
        self.ensure_one()
        last_order = self._last_order_before(period)
        if not last_order:
            return []
        last_prices = {line.product_id: line.price_unit for line in last_order.order_line}
        day = self._recurrence().period_start(self.date_start, period)
        increases = []
        for line in self.line_ids.filtered(lambda line: line.product_id in last_prices):
            old, new = last_prices[line.product_id], self._upcoming_price(line, day)
            if self.currency_id.compare_amounts(new, old) > 0:
                increases.append(
                    {
                        "line": line,
                        "product": line._portal_product_name(),
                        "old_price": old,
                        "new_price": new,
                        "old": format_amount(self.env, old, self.currency_id),
                        "new": format_amount(self.env, new, self.currency_id),
                    }
                )
        return increases

    def _price_notice_day(self):
        self.ensure_one()
        day = self._recurrence().period_start(self.date_start, max(self.price_notice_period, 0))
        return format_date(self.env, day)

    def _announce_price_increases(self):
        """Tell customers of the increases their orders are about to meet: they
        apply from the first order at least the company's notice days away
        (the orders before keep the last prices). Each increase once."""
        template = self.env.ref(
            "retention_loyalty.mail_template_subscription_price_increase", raise_if_not_found=False
        )
        for subscription in self.filtered(lambda s: s.state == "active" and s.next_date):
            notice_days = subscription.company_id.retention_price_notice_days
            if not notice_days or subscription.price_notice_period >= subscription.next_period:
                continue
            today = subscription._today()
            if subscription.next_date > today + timedelta(days=notice_days):
                continue
            if not subscription._price_increases(subscription.next_period):
                continue
            recurrence = subscription._recurrence()
            first = max(
                recurrence.first_period_from(
                    subscription.date_start, today + timedelta(days=notice_days)
                ),
                subscription.next_period,
            )
            subscription.price_notice_period = first
            if template and subscription.partner_id.email:
                template.send_mail(
                    subscription.id, email_layout_xmlid="mail.mail_notification_light"
                )
            subscription.message_post(
                body=self.env._(
                    "Price increase announced to the customer: from the order of %(day)s.",
                    day=subscription._price_notice_day(),
                )
            )

    def _set_quantities(self, quantities):
        """Change line quantities ({line: quantity}) from the next order on."""
        self.ensure_one()
        if self.state not in ("active", "paused"):
            raise UserError(self.env._("Only running or paused subscriptions can change."))
        for line, quantity in quantities.items():
            if line.subscription_id != self:
                raise UserError(self.env._("This product is not in the subscription."))
            if not quantity > 0:
                raise UserError(
                    self.env._(
                        "Quantities must be positive: close the subscription to stop it, or "
                        "contact us to remove a product."
                    )
                )
        for line, quantity in quantities.items():
            rounding = line.product_uom_id.rounding or 0.01
            if float_compare(line.quantity, quantity, precision_rounding=rounding):
                line.quantity = quantity

    def _open_renewal(self):
        """The renewal quotation waiting for the customer's signature, if any."""
        self.ensure_one()
        return self.order_ids.filtered(
            lambda order: order.retention_subscription_renewal and order.state in ("draft", "sent")
        )[:1]

    def action_propose_renewal(self):
        """Open the renewal quotation (proposed now if none is waiting)."""
        quotation = self._propose_renewal()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": quotation.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _propose_renewal(self):
        """A quotation of the next term's first order for the customer to
        sign online; signed and confirmed, it renews the subscription."""
        self.ensure_one()
        if self.state not in ("active", "paused"):
            raise UserError(self.env._("Only running or paused subscriptions can be renewed."))
        if self._open_renewal():
            return self._open_renewal()
        try:
            first_new, _end, _max, term = self._next_term()
        except ValueError as error:
            raise UserError(
                self.env._("This subscription runs until it is closed: there is no term to renew.")
            ) from error
        self._check_orderable()
        if self.order_ids.filtered(lambda order: order.retention_subscription_period == first_new):
            raise UserError(self.env._("This subscription has already been renewed."))
        self.term_periods = term
        values = self._order_values(first_new)
        last_day = self._term_end() - timedelta(days=1)
        values.update(
            {
                "retention_subscription_renewal": True,
                "require_signature": True,
                "require_payment": False,
                "validity_date": max(last_day, self._today()),
                "note": self.env._(
                    "Renewal of %(name)s for another %(count)s orders: sign to renew. This "
                    "quotation is the first order of the new term.",
                    name=self.name,
                    count=term,
                ),
            }
        )
        quotation = self.env["sale.order"].create(values)
        # The customer finds it among their quotations in the portal.
        quotation.message_subscribe(partner_ids=self.partner_id.ids)
        self.message_post(
            body=self.env._("Renewal proposed: %(order)s.", order=quotation._get_html_link())
        )
        return quotation

    def _next_term(self):
        """See :func:`next_term`: the term a renewal adds."""
        self.ensure_one()
        return next_term(
            self._recurrence(),
            self.date_start,
            self.date_end or None,
            self.max_periods or None,
            self.term_periods or None,
        )

    def _renew_term(self, renewals):
        """The confirmed renewal ``renewals`` (sales orders) extend the term."""
        for subscription in self:
            _first, new_end, new_max, term = subscription._next_term()
            values = {"term_periods": term}
            if new_end:
                values["date_end"] = new_end
            if new_max:
                values["max_periods"] = new_max
            subscription.write(values)
            order = renewals.filtered(
                lambda order, s=subscription: order.retention_subscription_id == s
            )
            subscription.message_post(
                body=self.env._(
                    "Renewed by %(order)s until %(day)s.",
                    order=order[:1]._get_html_link(),
                    day=format_date(self.env, subscription._term_end() - timedelta(days=1)),
                )
            )

    # ------------------------------------------------------------------ lifecycle

    def _log_event(self, kind, mrr_before=None, reason=None):
        self.env["retention.subscription.event"].sudo().create(
            [
                {
                    "subscription_id": subscription.id,
                    "kind": kind,
                    "date": subscription._today(),
                    "mrr_before": subscription.mrr if mrr_before is None else mrr_before,
                    "mrr_after": subscription.mrr if kind not in ("pause", "close") else 0.0,
                    "close_reason_id": reason.id if reason else False,
                }
                for subscription in self
            ]
        )

    def action_activate(self):
        for subscription in self:
            if subscription.state != "draft":
                raise UserError(self.env._("Only draft subscriptions can be started."))
            if not subscription.line_ids:
                raise UserError(
                    self.env._("Subscription %(name)s has no lines.", name=subscription.name)
                )
            subscription._check_orderable()
        self.write({"state": "active"})
        self._log_event("start", mrr_before=0.0)

    def action_pause(self, resume_date=None):
        """Pause, until ``resume_date`` when given (it then resumes by itself)."""
        if any(subscription.state != "active" for subscription in self):
            raise UserError(self.env._("Only active subscriptions can be paused."))
        if resume_date:
            self._check_resume_date(resume_date)
        self._log_event("pause")
        self.write({"state": "paused", "resume_date": resume_date or False})

    def _check_resume_date(self, day):
        for subscription in self:
            today = subscription._today()
            if day <= today:
                raise ValidationError(
                    self.env._(
                        "Choose a resume date after today (%(today)s).",
                        today=format_date(self.env, today),
                    )
                )
            last = subscription._last_period_start()
            if last is not None and day > last:
                raise ValidationError(
                    self.env._(
                        "The last order of this subscription is on %(day)s: choose an earlier "
                        "resume date, or close it.",
                        day=format_date(self.env, last),
                    )
                )

    def _next_date_if_resumed(self, day=None):
        """The day of the first order if the subscription resumed on ``day``
        (its resume date, else today), as :meth:`_restart` would do it."""
        self.ensure_one()
        day = day or self.resume_date or self._today()
        recurrence = self._recurrence()
        period = max(recurrence.first_period_from(self.date_start, day), self.next_period)
        return recurrence.period_start(self.date_start, period)

    def action_resume(self):
        """Resume from the first period that starts today or later: the
        periods of the pause are skipped, the past orders stay."""
        if any(subscription.state != "paused" for subscription in self):
            raise UserError(self.env._("Only paused subscriptions can be resumed."))
        self._restart("resume")

    def action_reopen(self):
        if any(subscription.state != "closed" for subscription in self):
            raise UserError(self.env._("Only closed subscriptions can be reopened."))
        self.write({"close_reason_id": False, "close_note": False, "date_closed": False})
        self._restart("reopen")

    def _restart(self, kind):
        for subscription in self:
            today = subscription._today()
            last = subscription._last_period_start()
            if last is not None and last < today:
                raise UserError(
                    self.env._(
                        "Subscription %(name)s has reached its end; extend its end date or "
                        "number of periods first.",
                        name=subscription.name,
                    )
                )
            first = subscription._recurrence().first_period_from(subscription.date_start, today)
            subscription.write(
                {
                    "state": "active",
                    "next_period": max(first, subscription.next_period),
                    "reminder_done": False,
                    "resume_date": False,
                }
            )
        self._log_event(kind, mrr_before=0.0)

    def action_close(self):
        return {
            "name": self.env._("Close Subscription"),
            "type": "ir.actions.act_window",
            "res_model": "retention.subscription.close.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_subscription_ids": self.ids},
        }

    def _close(self, reason, note=False):
        if not reason:
            raise UserError(self.env._("Choose why the subscription closes."))
        self._write_closed(reason, note)

    def _close_term_ended(self, note=False):
        """Close subscriptions whose fixed term is over, for the reason "Term
        ended" (which cannot be deleted). Should it be gone all the same
        (removed in the database), they close without a reason: a missing
        record never stops the crons."""
        reason = self.env.ref(
            "retention_loyalty.subscription_close_reason_term_ended", raise_if_not_found=False
        )
        self._write_closed(reason or self.env["retention.subscription.close.reason"], note)

    def _write_closed(self, reason, note):
        if any(subscription.state in ("closed", "draft") for subscription in self):
            raise UserError(self.env._("Only running or paused subscriptions can be closed."))
        for subscription in self:
            # A paused subscription's revenue already left with the pause.
            subscription._log_event(
                "close",
                mrr_before=0.0 if subscription.state == "paused" else None,
                reason=reason,
            )
            subscription.write(
                {
                    "state": "closed",
                    "close_reason_id": reason.id,
                    "close_note": note or False,
                    "date_closed": subscription._today(),
                    "resume_date": False,
                }
            )

    def action_view_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        action["domain"] = [("retention_subscription_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------ order generation

    def _check_orderable(self):
        """Raise UserError when no order can be made for this subscription."""
        self.ensure_one()
        partner = self.partner_id
        if not partner.active:
            raise UserError(self.env._("Customer %(name)s is archived.", name=partner.display_name))
        if getattr(partner, "sale_warn", False) == "block":
            raise UserError(
                self.env._("Customer %(name)s is blocked for sales.", name=partner.display_name)
            )
        archived = self.line_ids.product_id.filtered(lambda product: not product.active)
        if archived:
            raise UserError(
                self.env._(
                    "Archived products: %(products)s.",
                    products=", ".join(archived.mapped("display_name")),
                )
            )
        unsold = self.line_ids.product_id.filtered(lambda product: not product.sale_ok)
        if unsold:
            raise UserError(
                self.env._(
                    "Products that can no longer be sold: %(products)s.",
                    products=", ".join(unsold.mapped("display_name")),
                )
            )

    def _order_values(self, period):
        self.ensure_one()
        day = self._recurrence().period_start(self.date_start, period)
        # Increases not announced in time wait: the last prices hold.
        held = self._held_prices(period)
        lines = []
        for line in self.line_ids:
            values = {
                "product_id": line.product_id.id,
                "name": line.name,
                "product_uom_qty": line.quantity,
                "product_uom": line.product_uom_id.id,
            }
            values["discount"] = line.discount
            if line in held:
                values["price_unit"] = held[line]
            elif self.price_mode == "frozen":
                values["price_unit"] = line.price_unit
            lines.append(Command.create(values))
        return {
            "partner_id": self.partner_id.id,
            "partner_invoice_id": self.partner_invoice_id.id,
            "partner_shipping_id": self.partner_shipping_id.id,
            "pricelist_id": self.pricelist_id.id,
            "company_id": self.company_id.id,
            "user_id": self.user_id.id,
            "date_order": self._noon_utc(day),
            "origin": self.name,
            "retention_subscription_id": self.id,
            "retention_subscription_period": period,
            "order_line": lines,
        }

    def _generate_orders(self, today=None):
        """Create (and, as configured, confirm) one sales order per due period
        of these subscriptions; returns the orders created. See
        :meth:`_order_due_periods`."""
        return self._order_due_periods(today)[0]

    def _order_due_periods(self, today=None):
        """Create (and, as configured, confirm) one sales order per due period
        of these subscriptions. A period that already has an order is never
        ordered twice: the (subscription, period) pair is unique in the
        database, and periods already ordered are skipped. A subscription
        that cannot be ordered is logged and skipped until the next day; one
        whose customer another transaction holds (a lock conflict on their
        loyalty card, say) is only left due. The others go on. Returns the
        orders created and the subscriptions left due that way."""
        Order = self.env["sale.order"]
        self.filtered("last_error").write({"last_error": False})
        existing = {
            (order.retention_subscription_id.id, order.retention_subscription_period)
            for order in Order.with_context(active_test=False).search(
                [
                    ("retention_subscription_id", "in", self.ids),
                    (
                        "retention_subscription_period",
                        ">=",
                        min(self.mapped("next_period"), default=0),
                    ),
                ]
            )
        }
        to_create = []
        owners = []
        advance = {}
        for subscription in self.filtered(lambda s: s.state == "active"):
            day = today or subscription._today()
            periods = due_periods(
                subscription._recurrence(),
                subscription.date_start,
                subscription.next_period,
                day,
                subscription.date_end or None,
                subscription.max_periods or None,
            )
            # A long catch-up (a cron down for weeks) is spread over runs.
            periods = periods[:MAX_PERIODS_PER_RUN]
            if not periods:
                continue
            try:
                subscription._check_orderable()
            except UserError as error:
                subscription._record_failure(error.args[0])
                continue
            for period in periods:
                if (subscription.id, period) not in existing:
                    to_create.append(subscription._order_values(period))
                    owners.append(subscription)
            advance[subscription] = periods[-1] + 1
        orders, busy = self._create_orders(to_create, owners)
        for subscription, next_period in advance.items():
            if subscription.last_error or subscription in busy:
                continue
            subscription.next_period = next_period
        (self - busy)._close_finished()
        return orders, busy

    def _create_orders(self, vals_list, owners):
        """All orders in one create; when it fails, one by one so a broken
        subscription is found, logged and skipped. Returns the orders and the
        subscriptions whose customer another transaction holds."""
        Order = self.env["sale.order"].with_context(
            mail_create_nosubscribe=True, mail_create_nolog=True
        )
        busy = self.browse()
        if not vals_list:
            return Order, busy
        try:
            with self.env.cr.savepoint():
                orders = Order.create(vals_list)
                orders._retention_confirm_subscription_orders()
                return orders, busy
        except Exception:  # pylint: disable=broad-except
            _logger.info("Subscription batch failed; retrying one subscription at a time")
        orders = Order
        for vals, owner in zip(vals_list, owners, strict=True):
            if owner.last_error or owner in busy:
                continue
            try:
                with self.env.cr.savepoint():
                    order = Order.create(vals)
                    order._retention_confirm_subscription_orders()
                    orders |= order
            except CONCURRENCY_ERRORS as error:
                # Not the subscription's fault: in this transaction the held
                # rows stay out of reach; a later one orders it.
                _logger.info(
                    "Subscription %s left due, its customer is busy: %s", owner.name, error
                )
                busy |= owner
            except UserError as error:
                owner._record_failure(error.args[0])
            except Exception:  # pylint: disable=broad-except
                _logger.exception("Subscription %s: the order could not be created", owner.name)
                owner._record_failure(
                    self.env._(
                        "a technical error occurred (the details are in the server log); it is "
                        "tried again tomorrow."
                    )
                )
        return orders, busy

    def _order_with_retries(self):
        """:meth:`_order_due_periods`, then a couple more tries for the
        subscriptions whose customer was busy, each on fresh data (a lock
        conflict never clears within the transaction that met it). Those
        still busy wait for the next run, not marked as failed."""
        orders, busy = self._order_due_periods()
        for attempt in range(1, BUSY_RETRIES + 1):
            if not busy or not self._fresh_snapshot():
                break
            sleep_time.sleep(attempt)
            more, busy = busy._order_due_periods()
            orders |= more
        if busy:
            _logger.info(
                "Subscriptions left for the next run, their customers busy: %s",
                ", ".join(busy.mapped("name")),
            )
        return orders, busy

    def _fresh_snapshot(self):
        """Commit what is done, so that what follows sees what other
        transactions committed since; not in tests, which never commit."""
        if getattr(threading.current_thread(), "testing", False):
            return False
        self.env.cr.commit()  # pylint: disable=invalid-commit
        return True

    def _record_failure(self, message):
        self.ensure_one()
        _logger.warning("Subscription %s skipped: %s", self.name, message)
        self.write({"last_error": message, "error_date": self._today()})
        self.message_post(body=self.env._("No order could be created: %(error)s", error=message))

    def _close_finished(self):
        """Fixed-term subscriptions whose last period has been ordered close."""
        for subscription in self.filtered(lambda s: s.state == "active"):
            last = subscription._last_period_start()
            if last is None:
                continue
            following = subscription._recurrence().period_start(
                subscription.date_start, subscription.next_period
            )
            if following <= last:
                continue  # periods left to order
            term_end = following
            if subscription.date_end:
                term_end = min(term_end, subscription.date_end + timedelta(days=1))
            if subscription._today() >= term_end:
                subscription._close_term_ended()

    @api.model
    def _cron_generate_orders(self, batch_size=500, shard=0, shards=1):
        """Order due periods in batches; each batch commits (outside tests) and
        the cron runs again while subscriptions are due. With ``shards`` > 1,
        as many scheduled actions share the work, so that several cron workers
        order in parallel; a customer's subscriptions all fall in one shard,
        so that two shards never hold the same customer's card or clubs."""
        self.env.flush_all()
        companies = self.env["res.company"].sudo().search([])  # pylint: disable=no-search-all
        local_days = SQL(", ").join(
            SQL("(%s, %s::date)", company.id, self._company_today(company)) for company in companies
        )
        rows = self.env.execute_query(
            SQL(
                """SELECT s.id FROM retention_subscription s
                     JOIN (VALUES %s) AS local(company_id, today) ON local.company_id = s.company_id
                    WHERE s.state = 'active' AND s.next_date <= local.today
                      AND (s.error_date IS NULL OR s.error_date < local.today)
                      AND mod(s.partner_id, %s) = %s
                 ORDER BY s.next_date, s.id LIMIT %s""",
                local_days,
                shards,
                shard,
                batch_size + 1,
            )
        )
        due = self.browse(row[0] for row in rows)
        batch = due[:batch_size]
        _orders, busy = batch._order_with_retries()
        self.env["ir.cron"]._notify_progress(
            done=len(batch) - len(busy), remaining=len(due) - len(batch)
        )
        if not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _company_today(self, company):
        tz = pytz.timezone(company.partner_id.tz or "UTC")
        return datetime.now(tz).date()

    @api.model
    def _cron_send_reminders(self):
        """An activity (and an optional email) before a fixed-term subscription
        ends; paused subscriptions whose term has run out close, those whose
        resume date has come resume."""
        for subscription in self.search([("state", "=", "paused")]):
            today = subscription._today()
            last = subscription._last_period_start()
            if last is not None and last < today:
                subscription._close_term_ended(self.env._("Paused until after its end."))
            elif subscription.resume_date and subscription.resume_date <= today:
                subscription.action_resume()
                subscription.message_post(
                    body=self.env._("Resumed on the date chosen when it was paused.")
                )
        self.search([("state", "=", "active")])._announce_price_increases()
        template = self.env.ref(
            "retention_loyalty.mail_template_subscription_ending", raise_if_not_found=False
        )
        candidates = self.search(
            [
                ("state", "=", "active"),
                ("reminder_done", "=", False),
                "|",
                ("date_end", "!=", False),
                ("max_periods", ">", 0),
            ]
        )
        for subscription in candidates:
            last = subscription._last_period_start()
            if (
                last is None
                or last - timedelta(days=subscription.reminder_days) > subscription._today()
            ):
                continue
            subscription.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=last,
                summary=self.env._("Subscription %(name)s ends soon", name=subscription.name),
                note=self.env._("Its last order is on %(day)s. Offer a renewal.", day=last),
                user_id=subscription.user_id.id or self.env.user.id,
            )
            if subscription.send_reminder_email and template and subscription.partner_id.email:
                template.send_mail(
                    subscription.id, email_layout_xmlid="mail.mail_notification_light"
                )
            subscription.reminder_done = True
