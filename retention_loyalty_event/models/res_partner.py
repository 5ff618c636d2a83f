from datetime import date

from odoo import api, models
from odoo.tools import SQL


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def _retention_touch_queries(self, company, customer_ids, until=None):
        """Attending an event of the company is a contact; the event's
        responsible made it."""
        attended = SQL(
            """SELECT DISTINCT ON (p.commercial_partner_id)
                      p.commercial_partner_id, r.date_closed::date, 'event', e.user_id, NULL::int
                 FROM event_registration r
                 JOIN event_event e ON e.id = r.event_id
                 JOIN res_partner p ON p.id = r.partner_id
                WHERE r.state = 'done' AND r.date_closed::date <= %(until)s
                  AND (e.company_id = %(company)s OR e.company_id IS NULL)
                  AND p.commercial_partner_id = ANY(%(customers)s)
             ORDER BY p.commercial_partner_id, r.date_closed DESC""",
            customers=customer_ids,
            company=company.id,
            until=until or date.max,
        )
        return [*super()._retention_touch_queries(company, customer_ids, until), attended]
