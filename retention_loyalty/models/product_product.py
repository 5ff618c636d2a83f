from odoo import models


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _retention_sellable_in(self, company):
        """The products of this set a customer of ``company`` can order:
        active, sold, and shared or of that company."""
        return self.filtered(
            lambda product: (
                product.active
                and product.sale_ok
                and product.company_id in (company, company.browse())
            )
        )
