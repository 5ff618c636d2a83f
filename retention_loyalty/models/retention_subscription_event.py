from odoo import api, fields, models


class RetentionSubscriptionEvent(models.Model):
    """A dated change of a subscription (start, pause, resume, close, reopen,
    and a change of the MRR of a running one) with its monthly recurring
    revenue before and after: the churn report and the MRR movements."""

    _name = "retention.subscription.event"
    _description = "Subscription Event"
    _order = "date desc, id desc"

    subscription_id = fields.Many2one(
        "retention.subscription", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="subscription_id.partner_id", store=True)
    user_id = fields.Many2one(related="subscription_id.user_id", store=True, string="Salesperson")
    currency_id = fields.Many2one(
        related="subscription_id.company_id.currency_id", store=True, string="Currency"
    )
    date = fields.Date(required=True, index=True)
    kind = fields.Selection(
        [
            ("start", "Started"),
            ("pause", "Paused"),
            ("resume", "Resumed"),
            ("close", "Closed"),
            ("reopen", "Reopened"),
            ("change", "MRR Changed"),
        ],
        required=True,
        index=True,
    )
    mrr_before = fields.Monetary(string="MRR Before")
    mrr_after = fields.Monetary(string="MRR After")
    mrr_change = fields.Monetary(
        string="MRR Change", compute="_compute_mrr_change", store=True, aggregator="sum"
    )
    churned_mrr = fields.Monetary(
        string="Churned MRR", compute="_compute_mrr_change", store=True, aggregator="sum"
    )
    close_reason_id = fields.Many2one("retention.subscription.close.reason", index=True)

    @api.depends("kind", "mrr_before", "mrr_after")
    def _compute_mrr_change(self):
        for event in self:
            event.mrr_change = event.mrr_after - event.mrr_before
            event.churned_mrr = event.mrr_before if event.kind == "close" else 0.0
