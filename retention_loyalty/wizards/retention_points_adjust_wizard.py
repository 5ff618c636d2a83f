from odoo import fields, models
from odoo.exceptions import UserError

from ..engine.points import round_points


class RetentionPointsAdjustWizard(models.TransientModel):
    """Add or remove points by hand, with the reason on record."""

    _name = "retention.points.adjust.wizard"
    _description = "Adjust Loyalty Points"

    card_id = fields.Many2one("loyalty.card", required=True, readonly=True)
    balance = fields.Float(related="card_id.points", string="Current Balance")
    points = fields.Float(string="Points to Add", help="Negative to remove points.", digits=(16, 2))
    kind = fields.Selection(
        [("adjust", "Correction"), ("bonus", "Bonus")], default="adjust", required=True
    )
    reason = fields.Char(required=True)

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("retention_loyalty.group_retention_manager"):
            raise UserError(self.env._("Only retention administrators can adjust points."))
        self.card_id._retention_check_usable()
        points = round_points(self.points)
        if not points:
            raise UserError(self.env._("Enter a number of points other than zero."))
        if not (self.reason or "").strip():
            raise UserError(self.env._("Give the reason for the adjustment."))
        if self.kind == "bonus" and points < 0:
            raise UserError(self.env._("A bonus adds points; use a correction to remove some."))
        entries = self.env["loyalty.card"]._retention_post(
            [
                {
                    "card": self.card_id,
                    "kind": self.kind,
                    "points": points,
                    "description": self.reason.strip(),
                }
            ],
            write_history=True,
        )
        signed_points = f"{points:+g}"
        self.card_id.message_post(
            body=self.env._(
                "%(points)s points (%(kind)s) by %(user)s: %(reason)s",
                points=signed_points,
                kind=dict(self._fields["kind"].selection)[self.kind],
                user=self.env.user.name,
                reason=self.reason.strip(),
            )
        )
        return entries
