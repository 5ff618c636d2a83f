from odoo import Command, fields, models

# What a claimed reward gives, copied onto the coupon program of its codes.
MIRRORED_FIELDS = (
    "description",
    "reward_type",
    "discount",
    "discount_mode",
    "discount_applicability",
    "discount_product_domain",
    "discount_product_ids",
    "discount_product_category_id",
    "discount_product_tag_id",
    "discount_max_amount",
    "tax_ids",
    "reward_product_id",
    "reward_product_tag_id",
    "reward_product_qty",
)


class LoyaltyReward(models.Model):
    """Rewards of a loyalty program that customers claim in the portal with
    their points: the claim gives them a code of Odoo's coupons, usable on
    their next order or in the shop like any coupon."""

    _inherit = "loyalty.reward"

    retention_claim_program_id = fields.Many2one(
        "loyalty.program",
        string="Claimed Reward Codes",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The coupon program of the codes customers get when they claim this reward "
        "with their points in the portal.",
    )
    retention_claim_signature = fields.Char(copy=False, readonly=True)

    def _retention_portal_claimable(self):
        """Rewards a customer may claim for a code: a product or a fixed
        discount whose products can still be sold. Points spent as payment
        ('per point' discounts) and rewards emptying the card are used on an
        order, not claimed."""
        active_products = self.filtered_domain(self._get_active_products_domain())
        return active_products.filtered(
            lambda reward: (
                reward.active
                and not reward.clear_wallet
                and not (reward.reward_type == "discount" and reward.discount_mode == "per_point")
                and (
                    reward.reward_type != "product"
                    or any(product.sale_ok for product in reward.reward_product_ids)
                )
            )
        )

    def _retention_mirror_values(self):
        self.ensure_one()
        values = {}
        for name in MIRRORED_FIELDS:
            field = self._fields.get(name)
            if not field:
                continue
            value = self[name]
            if field.type == "many2many":
                value = [Command.set(value.ids)]
            elif field.type == "many2one":
                value = value.id
            values[name] = value
        return {**values, "required_points": 1}

    def _retention_claim_program(self):
        """The coupon program whose codes give this reward, created on the
        first claim. A reward changed since gets a new program, so that the
        codes already handed out keep what they promised."""
        self.ensure_one()
        # In the source language: customers of other languages share the program.
        reward = self.sudo().with_context(lang=None)
        values = reward._retention_mirror_values()
        signature = repr(sorted(values.items()))
        program = reward.retention_claim_program_id
        if program.active and reward.retention_claim_signature == signature:
            return program
        source = reward.program_id
        # Odoo's coupon e-mail brings the customer their code.
        mail = self.env.ref("loyalty.mail_template_loyalty_card", raise_if_not_found=False)
        program = (
            self.env["loyalty.program"]
            .sudo()
            .create(
                {
                    "name": self.env._(
                        "%(reward)s (claimed with %(program)s)",
                        reward=reward.description,
                        program=source.name,
                    ),
                    "program_type": "coupons",
                    "trigger": "with_code",
                    "applies_on": "current",
                    "company_id": source.company_id.id,
                    "currency_id": source.currency_id.id,
                    "pricelist_ids": [Command.set(source.pricelist_ids.ids)],
                    "rule_ids": [Command.clear()],
                    "reward_ids": [Command.clear(), Command.create(values)],
                    "communication_plan_ids": [
                        Command.create({"trigger": "create", "mail_template_id": mail.id})
                    ]
                    if mail
                    else [],
                }
            )
        )
        reward.write(
            {"retention_claim_program_id": program.id, "retention_claim_signature": signature}
        )
        return program
