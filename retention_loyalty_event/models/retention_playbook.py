from odoo import api, fields, models


class RetentionPlaybook(models.Model):
    _inherit = "retention.playbook"

    invites_to_event = fields.Boolean(compute="_compute_invites_to_event")

    @api.depends("action_ids.kind")
    def _compute_invites_to_event(self):
        for playbook in self:
            playbook.invites_to_event = "event" in playbook.action_ids.mapped("kind")

    def action_view_event_effect(self):
        """The playbook's invited customers by attendance, against its
        control group."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty_event.retention_event_effect_action"
        )
        action["domain"] = [("playbook_id", "=", self.id)]
        return action
