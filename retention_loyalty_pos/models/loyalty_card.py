from odoo import models


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"

    def _retention_changes_for(self, new_points, origin):
        if origin.get("event") != "pos":
            return super()._retention_changes_for(new_points, origin)
        return (
            self.env["pos.order"]
            .browse(origin["order_ids"])
            ._retention_point_changes(self, new_points)
        )
