from datetime import datetime, time

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .loyalty_card import is_ledger_posting

ENTRY_KINDS = [
    ("opening", "Opening Balance"),
    ("earn", "Earned"),
    ("spend", "Spent"),
    ("cancel", "Order Cancelled"),
    ("refund", "Refund"),
    ("refund_spent", "Refund: Spent Points Back"),
    ("expire", "Expired"),
    ("adjust", "Manual Adjustment"),
    ("bonus", "Bonus"),
]

# What a bonus (points for more than a purchase) was given for; the bridges
# add newsletter, event and survey.
BONUS_SOURCES = [
    ("profile", "Completed Profile"),
    ("birthday", "Birthday"),
]


class RetentionPointsEntry(models.Model):
    """One change of a loyalty card's points. The card's balance is the sum of
    its entries; positive entries are lots that keep their unspent part
    (``remaining``) and expire on ``expiry_date``. Entries are never deleted
    and their points never change: a correction is a new entry (only the
    label of a Point of Sale change is completed when its order arrives)."""

    _name = "retention.points.entry"
    _description = "Loyalty Points Ledger Entry"
    _order = "date desc, id desc"
    _rec_name = "description"

    card_id = fields.Many2one("loyalty.card", required=True, index=True, ondelete="cascade")
    program_id = fields.Many2one(related="card_id.program_id", store=True, index=True)
    partner_id = fields.Many2one(
        related="card_id.partner_id", store=True, index=True, string="Customer"
    )
    company_id = fields.Many2one(related="card_id.company_id", store=True, index=True)
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    kind = fields.Selection(ENTRY_KINDS, required=True, index=True)
    points = fields.Float(required=True, digits=(16, 2))
    remaining = fields.Float(
        digits=(16, 2), help="Points of this entry not yet spent, expired or taken back."
    )
    expiry_date = fields.Date(
        index=True,
        help="Points added: when they expire. Points taken: when the earliest of them would "
        "have expired, which points given back later keep.",
    )
    refund_basis = fields.Float(
        digits=(16, 2),
        help="On a cancellation: the amount its order had been refunded by then, so that "
        "refunds of an earlier confirmation do not count again after a new one.",
    )
    reminder_sent = fields.Boolean(copy=False)
    order_id = fields.Many2one("sale.order", index="btree_not_null", ondelete="set null")
    move_id = fields.Many2one(
        "account.move", string="Credit Note", index="btree_not_null", ondelete="set null"
    )
    description = fields.Char(required=True)
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, string="By")
    bonus_source = fields.Selection(
        BONUS_SOURCES, index="btree_not_null", help="What a bonus was given for."
    )
    bonus_period = fields.Char(
        help="The period of a bonus (2026, 2026-06, or 'once'): each bonus source is given "
        "once per customer, program and period."
    )

    _sql_constraints = [
        ("remaining_not_negative", "CHECK(remaining >= 0)", "Unspent points cannot be negative."),
        (
            "remaining_within_points",
            "CHECK(remaining = 0 OR remaining <= points)",
            "An entry cannot keep more unspent points than it brought.",
        ),
    ]

    def init(self):
        # Each bonus once per customer, program and period, whatever the
        # number of workers granting it at the same time (even on two cards
        # made at once): the database refuses the second one.
        self.env.cr.execute(
            SQL(
                """CREATE UNIQUE INDEX IF NOT EXISTS retention_points_entry_bonus_once
                       ON retention_points_entry (partner_id, program_id, bonus_source,
                                                  bonus_period)
                    WHERE kind = 'bonus' AND bonus_source IS NOT NULL"""
            )
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._("Ledger entries cannot be deleted; post a manual adjustment instead.")
        )

    def write(self, vals):
        locked = set(vals) - {"remaining", "reminder_sent", "expiry_date"}
        if locked and not is_ledger_posting():
            raise UserError(self.env._("Ledger entries cannot be changed once posted."))
        return super().write(vals)

    def _retention_write_loyalty_history(self):
        """Mirror entries into Odoo's ``loyalty.history``, which the portal
        shows, for changes Odoo itself does not record. History rows are
        dated by their creation: those of entries dated before today (a
        history loaded afterwards) get the entry's day (at noon, the same
        day in every time zone near UTC), as the ledger shows it."""
        rows = (
            self.env["loyalty.history"]
            .sudo()
            .create(
                [
                    {
                        "card_id": entry.card_id.id,
                        "description": entry.description,
                        "issued": max(entry.points, 0.0),
                        "used": max(-entry.points, 0.0),
                        "order_model": "sale.order" if entry.order_id else False,
                        "order_id": entry.order_id.id,
                    }
                    for entry in self
                ]
            )
        )
        today = fields.Date.context_today(self)
        backdated = [
            (row.id, datetime.combine(entry.date, time(12)))
            for row, entry in zip(rows, self, strict=True)
            if entry.date < today
        ]
        if backdated:
            rows.flush_recordset()
            self.env.cr.execute(
                SQL(
                    """UPDATE loyalty_history h SET create_date = v.day
                         FROM (VALUES %s) AS v(id, day) WHERE h.id = v.id""",
                    SQL(", ").join(SQL("(%s, %s::timestamp)", *row) for row in backdated),
                )
            )
            rows.invalidate_recordset(["create_date"])
