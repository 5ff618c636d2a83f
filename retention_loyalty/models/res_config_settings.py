from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    retention_revenue_source = fields.Selection(
        related="company_id.retention_revenue_source", readonly=False
    )
    retention_value_basis = fields.Selection(
        related="company_id.retention_value_basis", readonly=False
    )
    retention_default_margin_rate = fields.Float(
        related="company_id.retention_default_margin_rate", readonly=False
    )
    retention_email_cost = fields.Monetary(
        related="company_id.retention_email_cost", readonly=False
    )
    retention_acquisition_source = fields.Selection(
        related="company_id.retention_acquisition_source", readonly=False
    )
    retention_acquisition_monthly = fields.Monetary(
        related="company_id.retention_acquisition_monthly", readonly=False
    )
    retention_acquisition_analytic_id = fields.Many2one(
        related="company_id.retention_acquisition_analytic_id", readonly=False
    )
    retention_tier_basis = fields.Selection(
        related="company_id.retention_tier_basis", readonly=False
    )
    retention_subscription_portal_manage = fields.Boolean(
        related="company_id.retention_subscription_portal_manage", readonly=False
    )
    retention_subscription_change_mode = fields.Selection(
        related="company_id.retention_subscription_change_mode", readonly=False
    )
    retention_price_notice_days = fields.Integer(
        related="company_id.retention_price_notice_days", readonly=False
    )
    retention_portal_change_quantity = fields.Boolean(
        related="company_id.retention_portal_change_quantity", readonly=False
    )
    retention_portal_skip_order = fields.Boolean(
        related="company_id.retention_portal_skip_order", readonly=False
    )
    retention_portal_renew = fields.Boolean(
        related="company_id.retention_portal_renew", readonly=False
    )
    retention_portal_change_recurrence = fields.Boolean(
        related="company_id.retention_portal_change_recurrence", readonly=False
    )
    retention_portal_recurrences = fields.Char(
        related="company_id.retention_portal_recurrences", readonly=False
    )
    retention_subscription_invoice_policy = fields.Selection(
        related="company_id.retention_subscription_invoice_policy", readonly=False
    )
    retention_dunning_retry_days = fields.Char(
        related="company_id.retention_dunning_retry_days", readonly=False
    )
    retention_dunning_final_action = fields.Selection(
        related="company_id.retention_dunning_final_action", readonly=False
    )
    retention_quick_reorder_min_orders = fields.Integer(
        related="company_id.retention_quick_reorder_min_orders", readonly=False
    )
    retention_quick_reorder_last_orders = fields.Integer(
        related="company_id.retention_quick_reorder_last_orders", readonly=False
    )
    retention_quick_reorder_confirm = fields.Boolean(
        related="company_id.retention_quick_reorder_confirm", readonly=False
    )
    retention_standing_order_state = fields.Selection(
        related="company_id.retention_standing_order_state", readonly=False
    )
    retention_clv_horizon_months = fields.Integer(
        related="company_id.retention_clv_horizon_months", readonly=False
    )
    retention_monthly_discount_rate = fields.Float(
        related="company_id.retention_monthly_discount_rate", readonly=False
    )
    retention_refit_interval_days = fields.Integer(
        related="company_id.retention_refit_interval_days", readonly=False
    )
    retention_holdout_days = fields.Integer(
        related="company_id.retention_holdout_days", readonly=False
    )
    retention_min_repeat_customers = fields.Integer(
        related="company_id.retention_min_repeat_customers", readonly=False
    )
    retention_medium_p_alive = fields.Float(
        related="company_id.retention_medium_p_alive", readonly=False
    )
    retention_high_p_alive = fields.Float(
        related="company_id.retention_high_p_alive", readonly=False
    )
    retention_lost_p_alive = fields.Float(
        related="company_id.retention_lost_p_alive", readonly=False
    )
    retention_medium_overdue = fields.Float(
        related="company_id.retention_medium_overdue", readonly=False
    )
    retention_high_overdue = fields.Float(
        related="company_id.retention_high_overdue", readonly=False
    )
    retention_lost_overdue = fields.Float(
        related="company_id.retention_lost_overdue", readonly=False
    )
    retention_last_run = fields.Datetime(related="company_id.retention_last_run")
    retention_stat_failed_on = fields.Datetime(related="company_id.retention_stat_failed_on")
    retention_active_days = fields.Integer(
        related="company_id.retention_active_days", readonly=False
    )
    retention_churn_days = fields.Integer(related="company_id.retention_churn_days", readonly=False)
    retention_reactivation_days = fields.Integer(
        related="company_id.retention_reactivation_days", readonly=False
    )
    retention_bonus_expansion_percent = fields.Float(
        related="company_id.retention_bonus_expansion_percent", readonly=False
    )
    retention_bonus_per_reactivated = fields.Monetary(
        related="company_id.retention_bonus_per_reactivated", readonly=False
    )
    retention_bonus_churn_penalty = fields.Monetary(
        related="company_id.retention_bonus_churn_penalty", readonly=False
    )
    retention_bonus_high_value_threshold = fields.Monetary(
        related="company_id.retention_bonus_high_value_threshold", readonly=False
    )
    retention_dashboard_last_run = fields.Datetime(
        related="company_id.retention_dashboard_last_run"
    )

    def _retention_background_notification(self, title, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "info", "title": title, "message": message, "sticky": False},
        }

    def action_retention_recompute(self):
        """Ask for a full recomputation of the current company and start the
        scheduled action in the background: large bases take a while."""
        self.ensure_one()
        # Asked by hand: a company that failed today is tried again.
        self.company_id.sudo().write(
            {"retention_full_run_requested": True, "retention_stat_failed_on": False}
        )
        self.env.ref("retention_loyalty.ir_cron_retention_recompute").sudo()._trigger()
        return self._retention_background_notification(
            self.env._("Recomputation started"),
            self.env._(
                "Customer figures of %(company)s are being recomputed in the "
                "background; they update within a few minutes.",
                company=self.company_id.name,
            ),
        )

    def action_retention_refresh_dashboard(self):
        """Rebuild the current company's dashboard in the background."""
        self.ensure_one()
        self.company_id.sudo().retention_dashboard_requested = True
        self.env.ref("retention_loyalty.ir_cron_retention_dashboard").sudo()._trigger()
        return self._retention_background_notification(
            self.env._("Dashboard update started"),
            self.env._(
                "The retention dashboard of %(company)s is being rebuilt in the "
                "background with the current definitions.",
                company=self.company_id.name,
            ),
        )
