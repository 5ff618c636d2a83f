from odoo import fields, models, tools
from odoo.tools import SQL


class RetentionPointsLiability(models.Model):
    """Outstanding loyalty points (unspent, unexpired lots) and their money
    value, by company, program, customer and expiry month."""

    _name = "retention.points.liability"
    _description = "Loyalty Points Liability"
    _auto = False
    _order = "expiry_month"

    company_id = fields.Many2one("res.company", readonly=True)
    program_id = fields.Many2one("loyalty.program", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    card_id = fields.Many2one("loyalty.card", readonly=True)
    expiry_month = fields.Date(
        readonly=True, help="First day of the month the points expire; empty when they never do."
    )
    points = fields.Float(string="Outstanding Points", readonly=True, aggregator="sum")
    currency_id = fields.Many2one("res.currency", readonly=True)
    value = fields.Monetary(readonly=True, aggregator="sum", help="Points x value of a point.")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """CREATE VIEW %s AS (
                    SELECT min(e.id) AS id,
                           e.company_id, e.program_id, e.partner_id, e.card_id,
                           date_trunc('month', e.expiry_date)::date AS expiry_month,
                           sum(e.remaining) AS points,
                           p.currency_id,
                           sum(e.remaining) * coalesce(r.discount, 0) AS value
                      FROM retention_points_entry e
                      JOIN loyalty_program p ON p.id = e.program_id
                 LEFT JOIN loyalty_reward r ON r.id = p.retention_redeem_reward_id
                     WHERE e.remaining > 0
                  GROUP BY e.company_id, e.program_id, e.partner_id, e.card_id,
                           date_trunc('month', e.expiry_date), p.currency_id, r.discount
                )""",
                SQL.identifier(self._table),
            )
        )
