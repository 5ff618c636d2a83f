from odoo import api, fields, models
from odoo.tools import SQL

INCENTIVE_COST_KINDS = [
    ("discount", "Voucher or Promotion Discount"),
    ("points", "Points Redeemed"),
    ("gift", "Free Product (at cost)"),
    ("event", "Event Attendance"),
    ("email", "E-mail"),
]

# Prepaid value: the customer paid for it, it is no incentive.
PREPAID_PROGRAM_TYPES = ("gift_card", "ewallet")


class RetentionIncentiveCost(models.Model):
    """What an incentive actually cost, recorded where it happened: a reward
    used on a confirmed order, an e-mail a playbook sent, an attendee of an
    event. Rows are written by the flows themselves, in bulk; cancelling the
    order removes its rows."""

    _name = "retention.incentive.cost"
    _description = "Incentive Cost"
    _order = "date desc, id desc"
    _rec_name = "kind"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, readonly=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, index=True, ondelete="cascade"
    )
    kind = fields.Selection(INCENTIVE_COST_KINDS, required=True, readonly=True, index=True)
    amount = fields.Monetary(
        readonly=True,
        help="Cost in the company's currency: the discount given (untaxed), the cost of the "
        "free product, the cost per attendee or per e-mail.",
    )
    order_id = fields.Many2one(
        "sale.order", readonly=True, index="btree_not_null", ondelete="cascade"
    )
    sale_line_id = fields.Many2one(
        "sale.order.line", string="Order Line", readonly=True, ondelete="cascade"
    )
    program_id = fields.Many2one(
        "loyalty.program", string="Loyalty Program", readonly=True, index="btree_not_null"
    )
    playbook_run_id = fields.Many2one(
        "retention.playbook.run", readonly=True, index="btree_not_null", ondelete="set null"
    )
    playbook_id = fields.Many2one(
        related="playbook_run_id.playbook_id", store=True, index="btree_not_null"
    )
    description = fields.Char(readonly=True)

    _sql_constraints = [
        (
            "sale_line_kind_unique",
            "unique(sale_line_id, kind)",
            "An order line's incentive is counted once.",
        ),
    ]

    @api.model
    def _record_order_rewards(self, orders):
        """Costs of the rewards used on ``orders`` (just confirmed), in one
        statement: the discount of every reward line (points redeemed for a
        loyalty program, a voucher or promotion otherwise) and the cost of free
        products. Each cost goes to the playbook run that issued the coupon
        used, if any, and to the program. Lines already counted are skipped, so
        confirming twice counts once. A free product costs its cost (and any
        price the line still charges is taken off). The same statement stores each line's
        unit cost (company currency, line unit) for its margin, when
        sale_margin does not keep one."""
        if not orders:
            return
        has_purchase_price = "purchase_price" in self.env["sale.order.line"]._fields
        # Only what the statement reads from the tables: the orders' own
        # figures, just written by the confirmation, travel as arrays and their
        # pending writes stay batched with the rest.
        self.env["sale.order.line"].flush_model(
            [
                "order_id",
                "product_id",
                "product_uom",
                "product_uom_qty",
                "price_subtotal",
                "reward_id",
                "coupon_id",
                "name",
                *(["purchase_price"] if has_purchase_price else []),
            ]
        )
        self.env["retention.playbook.run"].flush_model(["card_id", "playbook_id"])
        confirmed = SQL(
            """unnest(%s::int[], %s::int[], %s::date[], %s::int[], %s::numeric[])
                   AS sale (id, company_id, day, partner_id, rate)""",
            orders.ids,
            [order.company_id.id for order in orders],
            [order.date_order.date() for order in orders],
            [order.partner_id.commercial_partner_id.id for order in orders],
            [order.currency_rate or 1.0 for order in orders],
        )
        rate = SQL("sale.rate")
        if has_purchase_price:
            unit_cost = SQL("COALESCE(line.purchase_price, 0.0) / %s", rate)
            snapshot = SQL("SELECT 1")
        else:
            unit_cost = SQL(
                """COALESCE((product.standard_price ->> sale.company_id::text)::numeric, 0.0)
                       * COALESCE(product_uom.factor, 1.0)
                       / COALESCE(NULLIF(line_uom.factor, 0), 1.0)"""
            )
            snapshot = SQL(
                """
                UPDATE sale_order_line line
                   SET retention_unit_cost = %(unit_cost)s
                  FROM %(confirmed)s, product_product product, product_template template,
                       uom_uom product_uom, uom_uom line_uom
                 WHERE sale.id = line.order_id
                   AND product.id = line.product_id
                   AND template.id = product.product_tmpl_id
                   AND product_uom.id = template.uom_id
                   AND line_uom.id = line.product_uom
                RETURNING line.id
                """,
                unit_cost=unit_cost,
                confirmed=confirmed,
            )
        self.env.cr.execute(
            SQL(
                """
                WITH snapshot AS (%(snapshot)s)
                INSERT INTO retention_incentive_cost
                       (company_id, date, partner_id, kind, amount, order_id, sale_line_id,
                        program_id, playbook_run_id, playbook_id, description,
                        create_uid, create_date, write_uid, write_date)
                SELECT sale.company_id, sale.day, sale.partner_id,
                       CASE WHEN reward.reward_type = 'product' THEN 'gift'
                            WHEN program.program_type = 'loyalty' THEN 'points'
                            ELSE 'discount' END,
                       CASE WHEN reward.reward_type = 'product'
                            THEN %(unit_cost)s * line.product_uom_qty
                                 - line.price_subtotal / %(rate)s
                            ELSE -line.price_subtotal / %(rate)s END,
                       sale.id, line.id, program.id, run.id, run.playbook_id,
                       LEFT(line.name, 200),
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM sale_order_line line
                  JOIN %(confirmed)s ON sale.id = line.order_id
                  JOIN loyalty_reward reward ON reward.id = line.reward_id
                  JOIN loyalty_program program ON program.id = reward.program_id
                  LEFT JOIN product_product product ON product.id = line.product_id
                  LEFT JOIN product_template template ON template.id = product.product_tmpl_id
                  LEFT JOIN uom_uom product_uom ON product_uom.id = template.uom_id
                  LEFT JOIN uom_uom line_uom ON line_uom.id = line.product_uom
                  LEFT JOIN LATERAL (
                      SELECT run.id, run.playbook_id FROM retention_playbook_run run
                       WHERE run.card_id = line.coupon_id ORDER BY run.id LIMIT 1
                  ) run ON line.coupon_id IS NOT NULL
                 WHERE program.program_type NOT IN %(prepaid)s
                ON CONFLICT (sale_line_id, kind) DO NOTHING
                """,
                snapshot=snapshot,
                unit_cost=unit_cost,
                rate=rate,
                confirmed=confirmed,
                uid=self.env.uid,
                prepaid=PREPAID_PROGRAM_TYPES,
            )
        )
        if not has_purchase_price:
            self.env["sale.order.line"].invalidate_model(["retention_unit_cost"])
        self.invalidate_model()

    @api.model
    def _remove_order_costs(self, orders):
        """Cancelled orders cost nothing: their rows go, in one statement."""
        if orders:
            self.env.cr.execute(
                SQL("DELETE FROM retention_incentive_cost WHERE order_id = ANY(%s)", orders.ids)
            )
            self.invalidate_model()

    @api.model
    def _record_email_costs(self, runs):
        """The company's cost per e-mail for each run that sent its customer
        an e-mail, in one insert; nothing when the company counts no cost."""
        sent = runs.filtered(lambda run: run.email_sent and run.company_id.retention_email_cost)
        if not sent:
            return self.browse()
        return self.create(
            [
                {
                    "company_id": run.company_id.id,
                    "date": run.date,
                    "partner_id": run.partner_id.id,
                    "kind": "email",
                    "amount": run.company_id.retention_email_cost,
                    "playbook_run_id": run.id,
                    "program_id": run.card_id.program_id.id,
                    "description": run.playbook_id.name,
                }
                for run in sent
            ]
        )
