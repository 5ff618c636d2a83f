from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    retention_pos_pricelist_id = fields.Many2one(
        "product.pricelist",
        compute="_compute_retention_pos_pricelist_id",
        string="Member Pricelist",
        help="The pricelist of the customer's highest club in the current company, which "
        "the Point of Sale uses when they are the customer.",
    )

    @api.depends_context("company")
    def _compute_retention_pos_pricelist_id(self):
        # Whoever reads a customer at the till may see their member prices.
        clubs = self.commercial_partner_id.sudo()._retention_current_clubs()
        company = self.env.company
        for partner in self:
            priced = clubs[partner.commercial_partner_id.id].filtered(
                lambda club: club.pricelist_id and club.company_id == company
            )
            partner.retention_pos_pricelist_id = priced.sorted(
                lambda club: (club.sequence, club.id)
            )[-1:].pricelist_id.sudo(False)

    @api.model
    def _load_pos_data_fields(self, config_id):
        return [*super()._load_pos_data_fields(config_id), "retention_pos_pricelist_id"]
