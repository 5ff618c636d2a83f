from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL


class RetentionCustomerStat(models.Model):
    """Late deliveries and returns are service failures."""

    _inherit = "retention.customer.stat"

    service_signal = fields.Selection(
        selection_add=[("delivery_late", "Late delivery"), ("goods_returned", "Goods returned")],
        ondelete={"delivery_late": "set null", "goods_returned": "set null"},
    )

    @api.model
    def _service_signal_queries(self, company, partner_ids, since, today):
        """A delivery validated more than a day after its promised day
        (deadline, else scheduled date), dated on that day; a validated
        return, dated when it came back. Deliveries never validated say
        nothing here (many companies never validate theirs): the *late
        delivery* playbook trigger covers deliveries still waiting."""
        promised = SQL("coalesce(picking.date_deadline, picking.scheduled_date)::date")
        deliveries = SQL(
            """SELECT DISTINCT ON (p.commercial_partner_id)
                      p.commercial_partner_id, 'delivery_late', %(promised)s
                 FROM stock_picking picking
                 JOIN stock_picking_type kind ON kind.id = picking.picking_type_id
                 JOIN res_partner p ON p.id = picking.partner_id
                WHERE kind.code = 'outgoing' AND picking.sale_id IS NOT NULL
                  AND picking.company_id = %(company)s AND picking.state = 'done'
                  AND %(promised)s BETWEEN %(since)s AND %(late)s
                  AND picking.date_done::date > %(promised)s + 1
                  AND p.commercial_partner_id = ANY(%(partners)s)
             ORDER BY p.commercial_partner_id, %(promised)s DESC""",
            promised=promised,
            company=company.id,
            since=since,
            late=today - timedelta(days=2),
            partners=partner_ids,
        )
        returns = SQL(
            """SELECT DISTINCT ON (p.commercial_partner_id)
                      p.commercial_partner_id, 'goods_returned', picking.date_done::date
                 FROM stock_picking picking
                 JOIN stock_picking_type kind ON kind.id = picking.picking_type_id
                 JOIN res_partner p ON p.id = picking.partner_id
                WHERE kind.code = 'incoming' AND picking.return_id IS NOT NULL
                  AND picking.company_id = %(company)s AND picking.state = 'done'
                  AND picking.date_done::date BETWEEN %(since)s AND %(today)s
                  AND p.commercial_partner_id = ANY(%(partners)s)
             ORDER BY p.commercial_partner_id, picking.date_done DESC""",
            company=company.id,
            since=since,
            today=today,
            partners=partner_ids,
        )
        return [
            *super()._service_signal_queries(company, partner_ids, since, today),
            deliveries,
            returns,
        ]
