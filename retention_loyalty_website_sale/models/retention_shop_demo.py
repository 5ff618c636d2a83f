import logging

from odoo import Command, api, models

_logger = logging.getLogger(__name__)

DEMO_PREFIX = "retention_loyalty.demo_"
SHOP_DEMO_PREFIX = "retention_loyalty_website_sale.demo_shop_"
# The demo portal customer of retention_loyalty, and a second shopper made here.
PORTAL_LOGIN = "retention.demo.portal"
SHOPPER_LOGIN = "retention.demo.shopper"
# Points each demo shopper spends at most on their order ("use N points").
DEMO_POINTS_USED = 300


class RetentionShopDemo(models.AbstractModel):
    """Demo orders of the shop: demo customers who paid part of a website
    order with their points, and an order that only earns, made through the
    shop's own code (the cart's "use N points", then the confirmation a
    paid order gets), so the ledger and My rewards show shop orders."""

    _name = "retention.shop.demo"
    _description = "Shop Demo Orders"

    @api.model
    def _generate_demo_data(self):
        """Entry point of the demo XML, once: needs retention_loyalty's demo
        (its points program and customers)."""
        program = self.env.ref(f"{DEMO_PREFIX}loyalty_program", raise_if_not_found=False)
        portal_user = self.env["res.users"].search([("login", "=", PORTAL_LOGIN)])
        if (
            not program
            or not portal_user
            or self.env.ref(f"{SHOP_DEMO_PREFIX}order_1", raise_if_not_found=False)
        ):
            return False
        website = self.env["website"].search(
            [("company_id", "in", [program.company_id.id, False])], order="id", limit=1
        )
        products = (
            self.env["ir.model.data"]
            .search(
                [
                    ("module", "=", "retention_loyalty"),
                    ("name", "=like", "demo_product_%"),
                    ("model", "=", "product.product"),
                ],
                order="id",
            )
            .mapped(lambda data: self.env["product.product"].browse(data.res_id))
            .filtered(lambda product: product.sale_ok and product.list_price > 0)
        )
        if not website or not products:
            return False
        products[:6].product_tmpl_id.is_published = True
        shopper = self._demo_shopper(program, portal_user)
        baskets = [
            (portal_user, [(products[0], 3), (products[1], 2)], DEMO_POINTS_USED),
            (portal_user, [(products[2], 1)], 0),
        ]
        if shopper:
            baskets.append((shopper, [(products[3], 2), (products[0], 1)], DEMO_POINTS_USED))
        orders = self._create_shop_orders(website, baskets)
        # The shoppers' figures count their shop orders from the start.
        self.env["retention.customer.stat"]._recompute_company(orders.company_id[:1])
        self.env["ir.model.data"]._update_xmlids(
            [
                {"xml_id": f"{SHOP_DEMO_PREFIX}order_{index}", "record": order, "noupdate": True}
                for index, order in enumerate(orders, start=1)
            ]
        )
        return True

    @api.model
    def _demo_shopper(self, program, portal_user):
        """A second demo customer with points who signs in to the shop."""
        cards = self.env["loyalty.card"].search(
            [
                ("program_id", "=", program.id),
                ("points", ">=", DEMO_POINTS_USED),
                ("partner_id", "!=", portal_user.partner_id.id),
                ("partner_id.user_ids", "=", False),
            ],
            order="id",
        )
        # One who shops in the company's currency, as the portal customer does.
        currency = (program.company_id or self.env.company).currency_id
        card = cards.filtered(
            lambda card: card.partner_id.property_product_pricelist.currency_id == currency
        )[:1]
        if not card:
            return self.env["res.users"]
        return (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": card.partner_id.name,
                    "login": SHOPPER_LOGIN,
                    # Demo databases only: lets a tester sign in as a shopper.
                    "password": SHOPPER_LOGIN,
                    "partner_id": card.partner_id.id,
                    "company_id": program.company_id.id or self.env.company.id,
                    "company_ids": [Command.link(program.company_id.id or self.env.company.id)],
                    "groups_id": [Command.set([self.env.ref("base.group_portal").id])],
                }
            )
        )

    @api.model
    def _create_shop_orders(self, website, baskets):
        """``baskets``: ``(user, [(product, quantity)], points)``. Each is a
        cart of ``website`` for the user's customer, ``points`` spent on it
        (bounded by what the cart allows) as the customer's "use N points"
        does, then confirmed as its payment confirms it. Returns the orders."""
        orders = self.env["sale.order"]
        for user, lines, points in baskets:
            order = self.env["sale.order"].create(
                {
                    "partner_id": user.partner_id.id,
                    "website_id": website.id,
                    "company_id": website.company_id.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": quantity})
                        for product, quantity in lines
                    ],
                }
            )
            order._update_programs_and_rewards()
            if points:
                allowed = order._retention_shop_points_summary()["max_points"]
                used = min(points, int(allowed))
                if used > 0:
                    order._retention_shop_use_points(used, user)
            order.action_confirm()
            orders |= order
        _logger.info("Shop demo data: %s website orders", len(orders))
        return orders
