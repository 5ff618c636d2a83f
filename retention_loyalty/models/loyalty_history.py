from odoo import api, fields, models

from ..engine.points import round_points
from .loyalty_card import ledger_posting


class LoyaltyHistory(models.Model):
    """Other apps than Sales (Point of Sale) change a card's points as the
    server first and record the order in loyalty.history afterwards, in a
    request of their own. The change was booked as an adjustment; the
    history row tells what it was: a purchase that earned or spent points."""

    _inherit = "loyalty.history"

    @api.model_create_multi
    def create(self, vals_list):
        rows = super().create(vals_list)
        rows._retention_book_purchases()
        return rows

    def _retention_book_purchases(self):
        rows = self.filtered(
            lambda row: (
                row.order_model not in (False, "sale.order")
                and row.card_id.program_id._retention_uses_ledger()
            )
        )
        if not rows:
            return
        Entry = self.env["retention.points.entry"].sudo()
        latest = Entry.browse(
            entry_id
            for _card, entry_id in Entry._read_group(
                [("card_id", "in", rows.card_id.ids)], ["card_id"], ["id:max"]
            )
        )
        today = fields.Date.context_today(self)
        booked = Entry
        for row in rows:
            entry = latest.filtered(lambda entry, row=row: entry.card_id == row.card_id)
            # Only the change this row describes: the card's last entry, an
            # unexplained change made today by the same user, of the same points.
            if not (
                entry.kind == "adjust"
                and not entry.order_id
                and not entry.move_id
                and entry.user_id == self.env.user
                and entry.date == today
                and entry.points == round_points(row.issued - row.used)
            ):
                continue
            with ledger_posting():
                entry.write(
                    {
                        "kind": "earn" if entry.points > 0 else "spend",
                        "description": row.description or entry.description,
                    }
                )
            booked |= entry
        self.env["loyalty.card"]._retention_extend_on_activity(booked, today)
