from datetime import timedelta

from odoo import fields, models

from odoo.addons.retention_loyalty.engine.playbooks import catch_up_window


class RetentionPlaybook(models.Model):
    """Service failures seen in the warehouse start playbooks: a delivery
    late by more than N days, goods returned by the customer."""

    _inherit = "retention.playbook"

    trigger = fields.Selection(
        selection_add=[
            ("delivery_late", "Delivery late by more than N days"),
            ("return_received", "Goods returned"),
        ],
        ondelete={"delivery_late": "cascade", "return_received": "cascade"},
    )

    def _candidates(self, today):
        if self.trigger not in ("delivery_late", "return_received"):
            return super()._candidates(today)
        window = catch_up_window(self.last_evaluated, today)
        if not window:
            return {}
        first, last = window
        Picking = self.env["stock.picking"].sudo()
        company = self.company_id
        if self.trigger == "delivery_late":
            # Each delivery once, on the day it becomes late: N days after the
            # promised day (its deadline, else its scheduled date) it had not
            # been delivered.
            late_after = timedelta(days=self.trigger_days + 1)
            since = fields.Datetime.to_datetime(first - late_after)
            until = fields.Datetime.to_datetime(last - late_after + timedelta(days=1))
            deliveries = Picking.search(
                [
                    ("company_id", "=", company.id),
                    ("picking_type_code", "=", "outgoing"),
                    ("sale_id", "!=", False),
                    ("state", "!=", "cancel"),
                    "|",
                    "&",
                    ("date_deadline", ">=", since),
                    ("date_deadline", "<", until),
                    "&",
                    ("date_deadline", "=", False),
                    "&",
                    ("scheduled_date", ">=", since),
                    ("scheduled_date", "<", until),
                ]
            )
            late = deliveries.filtered(
                lambda picking: (
                    not picking.date_done
                    or picking.date_done.date()
                    >= (picking.date_deadline or picking.scheduled_date).date() + late_after
                )
            )
            return {
                picking.partner_id.commercial_partner_id.id: picking.sale_id.id for picking in late
            }
        returns = Picking.search(
            [
                ("company_id", "=", company.id),
                ("picking_type_code", "=", "incoming"),
                ("return_id", "!=", False),
                ("state", "=", "done"),
                ("date_done", ">=", fields.Datetime.to_datetime(first)),
                ("date_done", "<", fields.Datetime.to_datetime(last + timedelta(days=1))),
            ]
        )
        return {
            picking.partner_id.commercial_partner_id.id: (
                picking.sale_id or picking.return_id.sale_id
            ).id
            for picking in returns
            if picking.partner_id
        }
