from odoo import fields, models


class RetentionPlaybookRun(models.Model):
    """One customer followed up (or kept in the control group) by a playbook."""

    _name = "retention.playbook.run"
    _description = "Retention Playbook Run"
    _order = "date desc, id desc"
    _rec_name = "playbook_id"

    playbook_id = fields.Many2one(
        "retention.playbook", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="playbook_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="cascade"
    )
    user_id = fields.Many2one(related="partner_id.user_id", string="Salesperson")
    date = fields.Date(required=True, index=True)
    # A run with a follow-up activity stays "Follow-up Open" until the activity
    # is marked done (then "Done") or cancelled; runs without one (emails,
    # vouchers, points) are done at once.
    state = fields.Selection(
        [
            ("open", "Follow-up Open"),
            ("done", "Done"),
            ("cancelled", "Follow-up Cancelled"),
            ("control", "Control Group"),
            ("failed", "Failed"),
        ],
        required=True,
        index=True,
    )
    in_control = fields.Boolean(string="Control Group", index=True)
    message = fields.Text()
    order_id = fields.Many2one("sale.order", string="Triggering Order", ondelete="set null")
    activity_id = fields.Many2one("mail.activity", ondelete="set null")
    activity_done_date = fields.Date(
        string="Follow-up Done On", readonly=True, index="btree_not_null", copy=False
    )
    activity_done_user_id = fields.Many2one(
        "res.users", string="Follow-up Done By", readonly=True, copy=False
    )
    email_sent = fields.Boolean()
    card_id = fields.Many2one("loyalty.card", string="Coupon", ondelete="set null")
    points_entry_id = fields.Many2one(
        "retention.points.entry", string="Bonus Points", ondelete="set null"
    )
    membership_id = fields.Many2one("retention.club.membership", ondelete="set null")
    quotation_id = fields.Many2one(
        "sale.order", string="Proposed Quotation", index="btree_not_null", ondelete="set null"
    )
    quotation_reminded = fields.Boolean(
        copy=False, help="The salesperson was reminded of the unconfirmed quotation."
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    incentive_cost = fields.Monetary(
        readonly=True,
        help="Face value of the voucher and bonus points handed out, in the company's "
        "currency when they were issued (a percentage voucher is worth nothing until used).",
    )
    realised_cost = fields.Monetary(
        string="Realised Incentive Cost",
        compute="_compute_realised_cost",
        help="What the run's incentives actually cost so far (Reporting > Incentive Costs): "
        "discounts of its voucher used on confirmed orders, free products at cost, its "
        "e-mails. The face value handed out is the Incentive Cost.",
    )

    def _compute_realised_cost(self):
        costs = dict(
            self.env["retention.incentive.cost"]._read_group(
                [("playbook_run_id", "in", self.ids)], ["playbook_run_id"], ["amount:sum"]
            )
        )
        for run in self:
            run.realised_cost = costs.get(run._origin, 0.0)
