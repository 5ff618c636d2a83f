import math

from odoo.exceptions import UserError
from odoo.http import request, route

from odoo.addons.website_sale_loyalty.controllers.main import WebsiteSale


class RetentionWebsiteSale(WebsiteSale):
    @route(
        "/shop/retention/points",
        type="http",
        auth="public",
        website=True,
        methods=["POST"],
        sitemap=False,
    )
    def retention_use_points(self, points="", r="/shop/cart", **post):
        """Spend the number of points the customer chose on the cart (0 takes
        them off); refusals are shown where Odoo shows the errors of codes."""
        order_sudo = request.website.sale_get_order()
        if not order_sudo:
            return request.redirect("/shop/cart")
        try:
            value = float(points)
            if not math.isfinite(value):
                raise ValueError(points)
        except (TypeError, ValueError):
            request.session["error_promo_code"] = request.env._(
                "Enter the number of points to use."
            )
            return request.redirect(r)
        try:
            order_sudo._retention_shop_use_points(value, request.env.user)
        except UserError as error:
            request.session["error_promo_code"] = error.args[0]
        return request.redirect(r)
