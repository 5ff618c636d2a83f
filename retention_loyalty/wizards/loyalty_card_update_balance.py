from odoo import models
from odoo.exceptions import UserError

from ..models.loyalty_card import points_origin


class LoyaltyCardUpdateBalance(models.TransientModel):
    """Odoo's own "Update balance" button: on cards with a points ledger it
    is a manual adjustment, for retention administrators, with its
    description recorded as the reason."""

    _inherit = "loyalty.card.update.balance"

    def action_update_card_point(self):
        if self.card_id.program_id._retention_uses_ledger() and not self.env.user.has_group(
            "retention_loyalty.group_retention_manager"
        ):
            raise UserError(self.env._("Only retention administrators can adjust points."))
        with points_origin("manual", reason=self.description):
            return super().action_update_card_point()
