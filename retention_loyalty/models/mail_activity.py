from odoo import fields, models
from odoo.exceptions import UserError

from .retention_customer_stat import RISK_LEVEL_SELECTION


class MailActivity(models.Model):
    _inherit = "mail.activity"

    retention_playbook_id = fields.Many2one(
        "retention.playbook", string="Playbook", index="btree_not_null", ondelete="set null"
    )
    retention_handover = fields.Boolean(
        string="Hand-over Note",
        help="Written for a customer's new salesperson; replaced at the next change.",
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
    retention_partner_phone = fields.Char(string="Phone", compute="_compute_retention_figures")
    retention_partner_email = fields.Char(string="Email", compute="_compute_retention_figures")
    retention_outcome = fields.Text(
        string="Outcome",
        help="What came out of the follow-up; posted in the customer's chatter when it is done.",
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
            activity.retention_partner_phone = partner.phone or partner.mobile
            activity.retention_partner_email = partner.email

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

    def _prepare_next_activity_values(self):
        """A next step that Odoo chains itself stays the playbook's follow-up."""
        values = super()._prepare_next_activity_values()
        if self.retention_playbook_id:
            values.update(self._retention_followup_values())
        return values

    def _retention_followup_values(self):
        self.ensure_one()
        return {
            "retention_playbook_id": self.retention_playbook_id.id,
            "retention_value_at_stake": self.retention_value_at_stake,
        }

    def action_feedback_schedule_next(self, feedback=False, attachment_ids=None):
        """The next step scheduled after a retention follow-up (Odoo's Done &
        Schedule Next, from the chatter or the outcome dialog) is a follow-up
        of the same playbook: it stays in the salesperson's list."""
        followup = self.retention_playbook_id and self._retention_followup_values()
        action = super().action_feedback_schedule_next(
            feedback=feedback, attachment_ids=attachment_ids
        )
        if action and followup:
            action["context"].update({f"default_{name}": value for name, value in followup.items()})
        return action

    def _retention_outcome(self):
        self.ensure_one()
        if not (self.retention_outcome or "").strip():
            raise UserError(self.env._("Write down the outcome of the follow-up first."))
        return self.retention_outcome

    def action_retention_log_outcome(self):
        """Mark Done from the follow-ups list: a dialog with the customer, the
        reason and the outcome to write, then Done or Done & Schedule Next."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Mark Done"),
            "res_model": "mail.activity",
            "res_id": self.id,
            "view_mode": "form",
            "views": [
                (self.env.ref("retention_loyalty.mail_activity_view_form_retention").id, "form")
            ],
            "target": "new",
        }

    def action_retention_done(self):
        self.ensure_one()
        self.action_feedback(feedback=self._retention_outcome())
        return False

    def action_retention_done_schedule_next(self):
        self.ensure_one()
        return self.action_feedback_schedule_next(feedback=self._retention_outcome())

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
