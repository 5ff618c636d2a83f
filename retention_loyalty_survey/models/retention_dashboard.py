from odoo import api, models

from odoo.addons.retention_loyalty.engine.dates import add_months


class RetentionDashboard(models.AbstractModel):
    _inherit = "retention.dashboard"

    def _tile_builders(self):
        return [*super()._tile_builders(), self._tile_nps]

    @api.model
    def _tile_nps(self, company, today):
        """The Net Promoter Score of the last 12 months' answers to the
        playbooks' surveys; no tile before the first answer."""
        Answer = self.env["retention.nps.answer"]
        if not Answer.has_access("read"):
            return None
        domain = [("company_id", "=", company.id), ("date", ">", add_months(today, -12))]
        nps = Answer._nps_by(domain).get((), None)
        if not nps or not nps.responses:
            return None
        return {
            "key": "nps",
            "title": self.env._("Net Promoter Score"),
            "subtitle": self.env._("last 12 months"),
            "value": nps.score,
            "kind": "integer",
            "detail_value": nps.responses,
            "detail_kind": "integer",
            "detail": self.env._("answers"),
            "action": self._list_action(
                "retention_loyalty_survey.retention_nps_answer_action", domain
            ),
        }
