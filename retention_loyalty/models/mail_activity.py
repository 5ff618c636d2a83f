from odoo import fields, models

from .retention_customer_stat import RISK_LEVEL_SELECTION


class MailActivity(models.Model):
    _inherit = "mail.activity"

    retention_playbook_id = fields.Many2one(
        "retention.playbook", string="Playbook", index="btree_not_null", ondelete="set null"
    )
    retention_value_at_stake = fields.Float(
        string="Value at Stake",
        help="The customer's value at stake when the follow-up was planned.",
    )
    retention_currency_id = fields.Many2one(
        "res.currency", related="retention_playbook_id.company_id.currency_id"
    )
    retention_partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_retention_figures",
        help="The customer of a retention follow-up.",
    )
    retention_value_tier_id = fields.Many2one(
        "retention.value.tier", string="Value Tier", compute="_compute_retention_figures"
    )
    retention_risk_level = fields.Selection(
        RISK_LEVEL_SELECTION, string="Churn Risk", compute="_compute_retention_figures"
    )
    retention_last_order_date = fields.Date(
        string="Last Order", compute="_compute_retention_figures"
    )

    def _compute_retention_figures(self):
        """The customer's current figures, read for all activities at once."""
        on_partners = self.filtered(lambda activity: activity.res_model == "res.partner")
        partners = self.env["res.partner"].browse(on_partners.mapped("res_id")).exists()
        by_id = {partner.id: partner for partner in partners}
        empty = self.env["res.partner"]
        for activity in self:
            partner = (
                by_id.get(activity.res_id, empty) if activity.res_model == "res.partner" else empty
            )
            activity.retention_partner_id = partner
            activity.retention_value_tier_id = partner.retention_value_tier_id
            activity.retention_risk_level = partner.retention_risk_level
            activity.retention_last_order_date = partner.retention_last_order_date

    def _action_done(self, feedback=False, attachment_ids=None):
        """Keep the date and the assignee of done retention follow-ups on their
        playbook run: Odoo deletes done activities, the scorecards credit them
        to the salesperson they were assigned to."""
        followups = self.filtered("retention_playbook_id")
        if followups:
            runs = (
                self.env["retention.playbook.run"]
                .sudo()
                .search([("activity_id", "in", followups.ids)])
            )
            today = fields.Date.context_today(self)
            for user in {activity.user_id for activity in followups}:
                runs.filtered(lambda run, user=user: run.activity_id.user_id == user).write(
                    {"activity_done_date": today, "activity_done_user_id": user.id, "state": "done"}
                )
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)

    def unlink(self):
        """A retention follow-up deleted before it was done was cancelled:
        its run says so instead of staying open (done ones are "Done" already)."""
        followups = self.filtered("retention_playbook_id")
        if followups:
            self.env["retention.playbook.run"].sudo().search(
                [("activity_id", "in", followups.ids), ("state", "=", "open")]
            ).state = "cancelled"
        return super().unlink()

    def action_retention_open_customer(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.res_id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
