from odoo import fields, models


class RetentionClubCancelWizard(models.TransientModel):
    """Cancel memberships with the reason on record."""

    _name = "retention.club.cancel.wizard"
    _description = "Cancel Club Memberships"

    membership_ids = fields.Many2many("retention.club.membership", required=True)
    reason = fields.Char(required=True)

    def action_apply(self):
        self.ensure_one()
        self.membership_ids._cancel(self.reason)
        return True
