from odoo import fields, models


class RetentionIncentiveCost(models.Model):
    _inherit = "retention.incentive.cost"

    registration_id = fields.Many2one(
        "event.registration",
        string="Attendee",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
    )

    _sql_constraints = [
        (
            "registration_unique",
            "unique(registration_id)",
            "An attendee's cost is counted once.",
        ),
    ]

    def _record_attendee_costs(self, registrations):
        """The event's cost per attendee for each attended registration not
        counted yet, to the playbook run that invited the customer, if any;
        attendees no longer attended (reset, cancelled) cost nothing."""
        registrations = registrations.sudo()
        attended = registrations.filtered(
            lambda reg: reg.state == "done" and reg.event_id.retention_cost_per_attendee
        )
        self.sudo().search([("registration_id", "in", (registrations - attended).ids)]).unlink()
        counted = self.sudo().search([("registration_id", "in", attended.ids)]).registration_id
        new = attended - counted
        if not new:
            return self.browse()
        customers = new.partner_id.commercial_partner_id
        runs = (
            self.env["retention.playbook.run"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", customers.ids),
                    ("in_control", "=", False),
                    ("email_sent", "=", True),
                    ("playbook_id.action_ids.event_id", "in", new.event_id.ids),
                ],
                order="date desc, id desc",
            )
        )
        return self.sudo().create(
            [
                {
                    "company_id": (reg.event_id.company_id or self.env.company).id,
                    "date": fields.Date.context_today(self),
                    "partner_id": reg.partner_id.commercial_partner_id.id or False,
                    "kind": "event",
                    "amount": reg.event_id.retention_cost_per_attendee,
                    "registration_id": reg.id,
                    "playbook_run_id": next(
                        (
                            run.id
                            for run in runs
                            if run.partner_id == reg.partner_id.commercial_partner_id
                            and reg.event_id in run.playbook_id.action_ids.event_id
                        ),
                        False,
                    ),
                    "description": reg.event_id.name,
                }
                for reg in new
            ]
        )
