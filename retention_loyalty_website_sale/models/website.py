from odoo import models
from odoo.http import request


class Website(models.Model):
    _inherit = "website"

    def _retention_member_pricelist(self):
        """The pricelist of the signed-in customer's highest club in the
        website's company, as a quotation of theirs gets it."""
        self.ensure_one()
        user = self.env.user
        if user._is_public():
            return self.env["product.pricelist"]
        setup = self.env["retention.club"]._retention_setup()
        if self.company_id.id not in setup["club_company_ids"]:
            return self.env["product.pricelist"]
        partner = user.partner_id.commercial_partner_id
        priced = partner._retention_current_clubs()[partner.id].filtered(
            lambda club: club.pricelist_id and club.company_id == self.company_id
        )
        if not priced:
            return self.env["product.pricelist"]
        return priced.sorted(lambda club: (club.sequence, club.id))[-1].pricelist_id.sudo()

    def get_pricelist_available(self, show_visible=False):
        """Members may always shop at their member prices."""
        pricelists = super().get_pricelist_available(show_visible=show_visible)
        member = self._retention_member_pricelist()
        return (pricelists | member).sorted() if member else pricelists

    def _get_current_pricelist(self):
        """Members get their member prices unless they chose a pricelist (or
        a code gave them one) in this session."""
        if not (request and request.session.get("website_sale_selected_pl_id")):
            member = self._retention_member_pricelist()
            if member:
                return member
        return super()._get_current_pricelist()
