from odoo import models
from odoo.tools import format_amount

# Products named in a rule's sentence before "and N more".
NAMED_PRODUCTS = 3


class LoyaltyRule(models.Model):
    """How a rule earns points, in the customer's words, for the portal."""

    _inherit = "loyalty.rule"

    def _retention_portal_sentence(self):
        """E.g. "1 point per $ 1.00 spent on orders of at least $ 20.00"."""
        self.ensure_one()
        program = self.program_id
        points = f"{self.reward_point_amount:g} {program.portal_point_name or self.env._('points')}"
        if self.reward_point_mode == "money":
            earning = self.env._(
                "%(points)s per %(amount)s spent",
                points=points,
                amount=format_amount(self.env, 1.0, self.currency_id),
            )
        elif self.reward_point_mode == "unit":
            earning = self.env._("%(points)s per item bought", points=points)
        else:
            earning = self.env._("%(points)s per order", points=points)
        conditions = []
        products = self.product_ids.filtered("sale_ok")
        if products:
            names = products[:NAMED_PRODUCTS].mapped("display_name")
            if len(products) > NAMED_PRODUCTS:
                names.append(self.env._("%(count)s more", count=len(products) - NAMED_PRODUCTS))
            conditions.append(self.env._("on %(products)s", products=", ".join(names)))
        if self.product_category_id:
            conditions.append(
                self.env._(
                    "on products of %(category)s", category=self.product_category_id.display_name
                )
            )
        if self.product_tag_id:
            conditions.append(
                self.env._("on products tagged %(tag)s", tag=self.product_tag_id.name)
            )
        if self.product_domain not in (False, "", "[]") and not conditions:
            conditions.append(self.env._("on selected products"))
        if self.minimum_qty > 1:
            conditions.append(
                self.env._("when you buy at least %(qty)s items", qty=self.minimum_qty)
            )
        if self.minimum_amount > 0:
            amount = format_amount(self.env, self.minimum_amount, self.currency_id)
            conditions.append(
                self.env._("on orders of at least %(amount)s tax included", amount=amount)
                if self.minimum_amount_tax_mode == "incl"
                else self.env._("on orders of at least %(amount)s before tax", amount=amount)
            )
        if self.mode == "with_code":
            # The code itself is the company's to hand out, not the page's.
            conditions.append(self.env._("with a promotion code"))
        return " ".join([earning, *conditions])
