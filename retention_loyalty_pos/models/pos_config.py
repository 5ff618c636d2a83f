from odoo import models


class PosConfig(models.Model):
    _inherit = "pos.config"

    def _get_available_pricelists(self):
        """The till also loads the pricelists of its company's clubs (in its
        currency): a member's pricelist applies when they are the customer."""
        pricelists = super()._get_available_pricelists()
        clubs = (
            self.env["retention.club"]
            .sudo()
            .search([("company_id", "=", self.company_id.id), ("pricelist_id", "!=", False)])
        )
        return pricelists | clubs.pricelist_id.filtered(
            lambda pricelist: (
                pricelist.currency_id == self.currency_id
                and pricelist.company_id in (self.company_id, self.env["res.company"])
            )
        ).sudo(False)
