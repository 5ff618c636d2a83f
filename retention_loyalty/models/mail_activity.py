from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    retention_playbook_id = fields.Many2one(
        "retention.playbook", string="Playbook", index="btree_not_null", ondelete="set null"
    )
    retention_value_at_stake = fields.Float(
        string="Value at Stake",
        help="The customer's value at stake when the follow-up was planned.",
    )
    retention_partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_retention_partner_id",
        help="The customer of a retention follow-up.",
    )

    retention_value_tier_id = fields.Many2one(
        related="retention_partner_id.retention_value_tier_id", string="Value Tier"
    )
    retention_risk_level = fields.Selection(
        related="retention_partner_id.retention_risk_level", string="Churn Risk"
    )
    retention_last_order_date = fields.Date(
        related="retention_partner_id.retention_last_order_date", string="Last Order"
    )

    def _compute_retention_partner_id(self):
        for activity in self:
            activity.retention_partner_id = (
                activity.res_id if activity.res_model == "res.partner" else False
            )

    def action_retention_open_customer(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.res_id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
