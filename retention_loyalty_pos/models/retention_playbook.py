from odoo import api, models
from odoo.tools import SQL

from .retention_customer_stat import SOLD_STATES


class RetentionPlaybook(models.Model):
    """Where the company counts its till, a paid PoS order of a known
    customer is a confirmed order for the order playbooks: it triggers them,
    and counts for the customer's first or Nth order."""

    _inherit = "retention.playbook"

    @api.model
    def _confirmed_orders_query(self, customer_ids):
        orders = super()._confirmed_orders_query(customer_ids)
        self.env["pos.order"].flush_model(
            ["partner_id", "company_id", "state", "date_order", "amount_total"]
        )
        self.env["res.company"].flush_model(["retention_revenue_source"])
        pos_orders = SQL(
            """
            SELECT 'pos.order'::varchar AS order_model, pos.id AS order_id,
                   partner.commercial_partner_id AS customer_id,
                   pos.company_id, pos.date_order
              FROM pos_order pos
              JOIN res_partner partner ON partner.id = pos.partner_id
              JOIN res_company company ON company.id = pos.company_id
             WHERE pos.state IN %s AND pos.amount_total > 0
               AND company.retention_revenue_source = 'orders_pos'
               AND partner.commercial_partner_id = ANY(%s)
            """,
            SOLD_STATES,
            list(customer_ids),
        )
        return SQL("(%s) UNION ALL (%s)", orders, pos_orders)

    def _orders_to_follow_up(self, date_from, date_to):
        orders = super()._orders_to_follow_up(date_from, date_to)
        if self.company_id.retention_revenue_source != "orders_pos":
            return orders
        followed = (
            self.env["retention.playbook.run"]
            .sudo()
            ._search([("playbook_id", "=", self.id), ("pos_order_id", "!=", False)])
        )
        pos_orders = (
            self.env["pos.order"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("state", "in", SOLD_STATES),
                    ("partner_id", "!=", False),
                    ("amount_total", ">", 0),
                    ("date_order", ">=", date_from),
                    ("date_order", "<", date_to),
                    ("id", "not in", followed.subselect("pos_order_id")),
                ],
                order="date_order, id",
            )
        )
        # Oldest first across both: the latest order of a customer wins.
        return sorted([*orders, *pos_orders], key=lambda order: order.date_order)

    @api.model
    def _run_origin_values(self, origin):
        if origin and not isinstance(origin, int) and origin._name == "pos.order":
            return {"pos_order_id": origin.id}
        return super()._run_origin_values(origin)
