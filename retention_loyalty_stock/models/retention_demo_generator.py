from datetime import timedelta

from odoo import Command, api, fields, models

# Regular customers whose delivery came late (validated a week after its
# promised day), and some whose delivery is still waiting, late since today.
DEMO_LATE_DELIVERED = 2
DEMO_LATE_WAITING = 3


class RetentionDemoGenerator(models.AbstractModel):
    _inherit = "retention.demo.generator"

    @api.model
    def _generate_stock_demo_data(self):
        """Late deliveries in the demo database: the customers' risk rises
        with the reason, and the late-delivery playbook calls the customer
        whose delivery is still waiting. Once: on a database with the core
        demo, before any of these deliveries exist."""
        company = self.env.company
        playbook = self.env.ref("retention_loyalty_stock.playbook_delivery_late")
        if playbook.active or not self.env.ref(
            "retention_loyalty.demo_customer_0000", raise_if_not_found=False
        ):
            return False
        customers = (
            self.env["retention.customer.stat"]
            .search(
                [
                    ("company_id", "=", company.id),
                    ("risk_level", "=", "low"),
                    ("service_signal", "=", False),
                ],
                order="value_at_stake desc, id",
            )
            .partner_id.filtered("user_id")[: DEMO_LATE_DELIVERED + DEMO_LATE_WAITING]
        )
        goods = self.env["product.product"].search(
            [("default_code", "=like", "RL-%"), ("type", "=", "consu")], limit=1
        )
        if not goods or not customers:
            return False
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": customer.id,
                    "user_id": customer.user_id.id,
                    "order_line": [Command.create({"product_id": goods.id, "product_uom_qty": 3})],
                }
                for customer in customers
            ]
        )
        orders.action_confirm()
        now = fields.Datetime.now()
        for index, order in enumerate(orders):
            delivered = index < DEMO_LATE_DELIVERED
            promised = now - timedelta(days=10 if delivered else 4)
            pickings = order.picking_ids
            pickings.write({"scheduled_date": promised, "date_deadline": promised})
            if delivered:
                for move in pickings.move_ids:
                    move.quantity = move.product_uom_qty
                pickings.button_validate()
        self.env["retention.customer.stat"]._recompute_company(company, full=True)
        playbook.write({"active": True})
        today = fields.Date.context_today(self)
        self._demo_playbook_round(playbook, today, since=today - timedelta(days=1))
        return True
