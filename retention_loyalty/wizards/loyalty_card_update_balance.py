from odoo import models


class LoyaltyCardUpdateBalance(models.TransientModel):
    """Odoo's own "Update balance" button records its description in the ledger."""

    _inherit = "loyalty.card.update.balance"

    def action_update_card_point(self):
        return super(
            LoyaltyCardUpdateBalance,
            self.with_context(retention_points_reason=self.description),
        ).action_update_card_point()
