import math

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_repr, float_round, formatLang


class RetentionSubscriptionLine(models.Model):
    """A product ordered every period. Changing it changes the next orders."""

    _name = "retention.subscription.line"
    _description = "Subscription Line"
    _order = "subscription_id, sequence, id"
    _check_company_auto = True

    subscription_id = fields.Many2one(
        "retention.subscription", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    sequence = fields.Integer(default=10)
    product_id = fields.Many2one(
        "product.product",
        required=True,
        domain="[('sale_ok', '=', True)]",
        check_company=True,
    )
    name = fields.Text(string="Description", compute="_compute_name", store=True, readonly=False)
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure", required=True)
    product_uom_id = fields.Many2one(
        "uom.uom", string="Unit", compute="_compute_product_uom_id", store=True, readonly=False
    )
    price_unit = fields.Float(
        digits="Product Price", compute="_compute_price_unit", store=True, readonly=False
    )
    discount = fields.Float(string="Discount (%)", digits="Discount")
    price_subtotal = fields.Monetary(compute="_compute_price_subtotal", store=True)

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            line.name = line.product_id.get_product_multiline_description_sale()

    @api.depends("product_id")
    def _compute_product_uom_id(self):
        for line in self:
            line.product_uom_id = line.product_id.uom_id

    @api.depends("product_id")
    def _compute_price_unit(self):
        """The price when the product is chosen; later it changes only by hand
        (frozen prices) or at each order (price list mode)."""
        for line in self:
            pricelist = line.subscription_id.pricelist_id
            line.price_unit = (
                pricelist._get_product_price(line.product_id, line.quantity or 1.0)
                if pricelist and line.product_id
                else line.product_id.lst_price
            )

    @api.depends("quantity", "price_unit", "discount")
    def _compute_price_subtotal(self):
        for line in self:
            line.price_subtotal = line.quantity * line.price_unit * (1 - (line.discount or 0) / 100)

    def _portal_product_name(self):
        """The product as the customer knows it, without our internal reference."""
        self.ensure_one()
        return self.product_id.with_context(display_default_code=False).display_name

    def _portal_quantity_value(self):
        """The quantity rounded to its unit, without useless decimals, as a
        number field holds it ("1", "2.5")."""
        self.ensure_one()
        rounding = self.product_uom_id.rounding or 0.01
        quantity = float_round(self.quantity, precision_rounding=rounding)
        digits = max(0, math.ceil(-math.log10(rounding)))
        return float_repr(quantity, digits).rstrip("0").rstrip(".")

    def _portal_quantity(self):
        """The quantity rounded to its unit, without useless decimals, in the
        customer's language ("1", "2.5 kg"); the unit is named unless it is
        plain units."""
        self.ensure_one()
        uom = self.product_uom_id
        value = self._portal_quantity_value()
        text = formatLang(self.env, float(value), digits=len(value.partition(".")[2]))
        if uom and uom != self.env.ref("uom.product_uom_unit", raise_if_not_found=False):
            text = f"{text} {uom.name}"
        return text

    @api.constrains("quantity", "discount")
    def _check_quantity(self):
        for line in self:
            if line.quantity <= 0:
                raise ValidationError(self.env._("Subscription quantities must be positive."))
            if not 0 <= line.discount <= 100:
                raise ValidationError(self.env._("A discount lies between 0 and 100 %."))

    @api.model_create_multi
    def create(self, vals_list):
        self.env["retention.subscription"].browse(
            {vals["subscription_id"] for vals in vals_list if vals.get("subscription_id")}
        )._watch_mrr()
        lines = super().create(vals_list)
        lines._charge_changes({}, lines._billed_terms())
        return lines

    def unlink(self):
        self.subscription_id._watch_mrr()
        before = self._billed_terms()
        subscriptions = self.subscription_id
        res = super().unlink()
        self.browse()._charge_changes(before, {}, subscriptions)
        return res

    def _billed_terms(self):
        """{line id: (subscription, product, unit, quantity, price, discount)}."""
        return {
            line.id: (
                line.subscription_id,
                line.product_id,
                line.product_uom_id,
                line.quantity,
                line.price_unit,
                line.discount,
            )
            for line in self
        }

    def _charge_changes(self, before, after, subscriptions=None):
        """Hand the changes between two states of lines to their subscriptions
        (which charge them now, prorated, when their company says so), as
        (product, unit, quantity, price, discount) to add, negative to take
        off: a quantity change is its difference, any other a swap."""
        changes = {}
        for line_id in before.keys() | after.keys():
            old, new = before.get(line_id), after.get(line_id)
            subscription = (old or new)[0]
            moved = changes.setdefault(subscription, [])
            if old and new and old[1:3] == new[1:3] and old[4:] == new[4:]:
                if old[3] != new[3]:
                    moved.append((new[1], new[2], new[3] - old[3], new[4], new[5]))
                continue
            if old:
                moved.append((old[1], old[2], -old[3], old[4], old[5]))
            if new:
                moved.append((new[1], new[2], new[3], new[4], new[5]))
        for subscription, moved in changes.items():
            if moved and (subscriptions is None or subscription in subscriptions):
                subscription._prorate(moved)

    def write(self, vals):
        """Changes apply from the next period and are recorded on the subscription."""
        before = {line: (line.product_id.display_name, line.quantity) for line in self}
        billed = {"quantity", "price_unit", "discount", "product_id", "product_uom_id"} & set(vals)
        if billed:
            self.subscription_id._watch_mrr()
            terms_before = self._billed_terms()
        res = super().write(vals)
        if billed:
            self._charge_changes(terms_before, self._billed_terms())
        if {"quantity", "product_id"} & set(vals):
            for line in self:
                line.subscription_id.message_post(
                    body=self.env._(
                        "From the next order: %(product)s x %(qty)s (was %(old_product)s x "
                        "%(old_qty)s).",
                        product=line.product_id.display_name,
                        qty=line.quantity,
                        old_product=before[line][0],
                        old_qty=before[line][1],
                    )
                )
        return res
