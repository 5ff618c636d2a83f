import logging
from datetime import datetime, time, timedelta
from uuid import uuid4

from odoo import Command, api, fields, models

_logger = logging.getLogger(__name__)

# Demo customers who also buy at the till: (customer key, days ago, product
# quantities); the first order is partly returned the next day.
DEMO_TILL_ORDERS = [
    ("0001", 12, (2, 1)),
    ("0002", 9, (1, 0)),
    ("0003", 5, (3, 2)),
    ("0004", 2, (1, 1)),
    ("0001", 1, (0, 2)),
]
DEMO_TILL_SESSION_XMLID = "retention_loyalty_pos.demo_till_session"


class RetentionDemoGenerator(models.AbstractModel):
    _inherit = "retention.demo.generator"

    @api.model
    def _generate_pos_demo_data(self):
        """Paid orders at the till of a few demo customers, their points on
        the ledger with the PoS order as origin, one order partly returned;
        the statistics then count them. Once, on a database with the core
        demo and a till of the company that takes cash."""
        company = self.env.company
        if self.env.ref(DEMO_TILL_SESSION_XMLID, raise_if_not_found=False) or not self.env.ref(
            "retention_loyalty.demo_customer_0000", raise_if_not_found=False
        ):
            return False
        config = (
            self.env["pos.config"]
            .search([("company_id", "=", company.id)])
            .filtered(
                lambda config: (
                    config.currency_id == company.currency_id
                    and not config.current_session_id
                    and config.payment_method_ids.filtered("is_cash_count")
                )
            )[:1]
        )
        products = self.env["product.product"].search(
            [("default_code", "=like", "RL-%"), ("sale_ok", "=", True)], order="id", limit=2
        )
        if not config or len(products) < 2:
            _logger.info("Retention PoS demo: no till taking cash or no demo products, skipped.")
            return False
        products.write({"available_in_pos": True})
        if company.retention_revenue_source == "orders":
            # As installing the bridge does (its hook runs after the demo data).
            company.retention_revenue_source = "orders_pos"
        session = self.env["pos.session"].create(
            {"config_id": config.id, "user_id": self.env.ref("base.user_admin").id}
        )
        session.set_opening_control(0.0, "")
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": DEMO_TILL_SESSION_XMLID, "record": session, "noupdate": True}]
        )
        orders = self.env["pos.order"]
        for key, days_ago, quantities in DEMO_TILL_ORDERS:
            customer = self.env.ref(f"retention_loyalty.demo_customer_{key}")
            lines = [
                (product, qty, product.lst_price)
                for product, qty in zip(products, quantities, strict=True)
                if qty
            ]
            orders |= self._demo_till_order(session, customer, lines, days_ago)
        first = orders[0]
        returned = first.lines[:1]
        self._demo_till_order(
            session,
            first.partner_id,
            [(returned.product_id, -1, returned.price_unit, returned)],
            DEMO_TILL_ORDERS[0][1] - 1,
        )
        self.env["retention.customer.stat"]._recompute_company(company, full=True)
        return True

    def _demo_till_order(self, session, customer, lines, days_ago):
        """A paid order at the till, untaxed, as the till sends it, with the
        points the demo program's rule gives (one per unit of money)."""
        total = sum(qty * price for _product, qty, price, *_refunded in lines)
        cash = session.config_id.payment_method_ids.filtered("is_cash_count")[:1]
        uuid = str(uuid4())
        result = self.env["pos.order"].sync_from_ui(
            [
                {
                    "uuid": uuid,
                    "name": f"Order {uuid}",
                    "session_id": session.id,
                    "partner_id": customer.id,
                    "user_id": session.user_id.id,
                    "pricelist_id": session.config_id.pricelist_id.id,
                    "sequence_number": 1,
                    "date_order": fields.Datetime.to_string(
                        datetime.combine(
                            fields.Date.context_today(self) - timedelta(days=days_ago), time(11)
                        )
                    ),
                    "amount_total": total,
                    "amount_tax": 0.0,
                    "amount_paid": total,
                    "amount_return": 0.0,
                    "last_order_preparation_change": "{}",
                    "lines": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "qty": qty,
                                "price_unit": price,
                                "price_subtotal": qty * price,
                                "price_subtotal_incl": qty * price,
                                "tax_ids": [Command.clear()],
                                "pack_lot_ids": [],
                                **({"refunded_orderline_id": refunded[0].id} if refunded else {}),
                            }
                        )
                        for product, qty, price, *refunded in lines
                    ],
                    "payment_ids": [
                        Command.create(
                            {
                                "amount": total,
                                "name": fields.Datetime.now(),
                                "payment_method_id": cash.id,
                            }
                        )
                    ],
                }
            ]
        )
        order = self.env["pos.order"].browse(result["pos.order"][0]["id"])
        program = self.env.ref("retention_loyalty.demo_loyalty_program", raise_if_not_found=False)
        if program and total > 0:
            card = self.env["loyalty.card"].search(
                [("program_id", "=", program.id), ("partner_id", "=", customer.id)], limit=1
            )
            key = card.id or -1
            points = total * (program.rule_ids[:1].reward_point_amount or 1.0)
            order.confirm_coupon_programs(
                {
                    key: {
                        "points": points,
                        "program_id": program.id,
                        "coupon_id": key,
                        "partner_id": customer.id,
                        "barcode": False,
                    }
                }
            )
        return order
