from odoo import api, fields, models


class RetentionClubLadder(models.Model):
    """Ordered, mutually exclusive club levels (Silver, Gold, Platinum): a
    customer holds at most one level of a ladder at a time."""

    _name = "retention.club.ladder"
    _description = "Club Ladder"
    _order = "company_id, name"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    club_ids = fields.One2many("retention.club", "ladder_id", string="Levels")

    @api.constrains("club_ids")
    def _check_levels(self):
        self.club_ids._check_ladder()
