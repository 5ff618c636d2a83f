from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.misc import formatLang

from ..engine.customer_movement import month_start
from ..engine.dates import add_months

# Risk levels the "Customers at Risk" list shows by default (its "At Risk" filter).
AT_RISK_LEVELS = ("medium", "high")
EXPIRY_HORIZON_DAYS = 30


class RetentionDashboard(models.AbstractModel):
    """The figures of the Retention home page.

    Each tile is read as the current user, in the current company, with the
    very domain of the list it opens, so a figure and its list always agree;
    a tile whose records the user may not read is left out."""

    _name = "retention.dashboard"
    _description = "Retention Home"

    @api.model
    def get_tiles(self):
        company = self.env.company
        today = fields.Date.context_today(self)
        tiles = [tile for build in self._tile_builders() if (tile := build(company, today))]
        return {
            "company": company.name,
            "currency_id": company.currency_id.id,
            "tiles": tiles,
        }

    def _tile_builders(self):
        """The tiles in their order: methods ``(company, today)`` returning a
        tile or None. Bridges add theirs (the survey bridge's NPS)."""
        return [
            self._tile_customers_at_risk,
            self._tile_followups_due,
            self._tile_contact_coverage,
            self._tile_retained_revenue,
            self._tile_points_liability,
            self._tile_winning_vs_keeping,
            self._tile_mrr,
            self._tile_churn,
        ]

    def _readable(self, model):
        return self.env[model].has_access("read")

    def _list_action(self, xmlid, domain, context=None):
        """``xmlid``'s action, narrowed to ``domain`` and opened as a list; its
        default filters are left out (``context`` replaces the action's): the
        list shows exactly what the tile counts."""
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = domain
        action["context"] = context or {}
        views = action.get("views") or []
        list_first = [view for view in views if view[1] == "list"] + [
            view for view in views if view[1] != "list"
        ]
        action["views"] = list_first or [(False, "list"), (False, "form")]
        return action

    def _tile_customers_at_risk(self, company, today):
        if not self._readable("retention.customer.stat"):
            return None
        domain = [("company_id", "=", company.id), ("risk_level", "in", AT_RISK_LEVELS)]
        [(count, at_stake)] = self.env["retention.customer.stat"]._read_group(
            domain, aggregates=["__count", "value_at_stake:sum"]
        )
        return {
            "key": "at_risk",
            "title": self.env._("Customers at Risk"),
            "value": count,
            "kind": "integer",
            "detail_value": at_stake,
            "detail_kind": "monetary",
            "detail": self.env._("value at stake (margin)")
            if company.retention_value_basis == "margin"
            else self.env._("value at stake"),
            "action": self._list_action(
                "retention_loyalty.retention_customer_stat_action_at_risk", domain
            ),
        }

    def _tile_followups_due(self, company, today):
        if not self._readable("mail.activity"):
            return None
        # Administrators watch the whole team's follow-ups, salespeople their own.
        team = self.env.user.has_group("retention_loyalty.group_retention_manager")
        domain = [
            ("retention_playbook_id", "!=", False),
            ("retention_playbook_id.company_id", "=", company.id),
            ("date_deadline", "<=", today),
        ]
        if not team:
            domain.append(("user_id", "=", self.env.uid))
        [(due,)] = self.env["mail.activity"]._read_group(domain, aggregates=["__count"])
        [(overdue,)] = self.env["mail.activity"]._read_group(
            [*domain, ("date_deadline", "<", today)], aggregates=["__count"]
        )
        return {
            "key": "followups",
            "title": (
                self.env._("Follow-ups Due (Team)") if team else self.env._("My Follow-ups Due")
            ),
            "value": due,
            "kind": "integer",
            "detail_value": overdue,
            "detail_kind": "integer",
            "detail": self.env._("overdue"),
            "action": self._list_action(
                "retention_loyalty.mail_activity_action_retention_followups",
                domain,
                {"create": False, **({"group_by": ["user_id"]} if team else {})},
            ),
        }

    def _tile_contact_coverage(self, company, today):
        if not self._readable("retention.customer.stat"):
            return None
        team = self.env.user.has_group("retention_loyalty.group_retention_manager")
        domain = [
            ("company_id", "=", company.id),
            ("value_tier_id.contact_cadence_days", ">", 0),
        ]
        if not team:
            domain.append(("user_id", "=", self.env.uid))
        Stat = self.env["retention.customer.stat"]
        covered = Stat._contact_coverage(Stat.search(domain))
        if not covered:
            return None
        due = [stat_id for stat_id, ok in covered.items() if not ok]
        return {
            "key": "contact_coverage",
            "title": (
                self.env._("Contact Plan Kept") if team else self.env._("My Contact Plan Kept")
            ),
            "value": 100.0 * (len(covered) - len(due)) / len(covered),
            "kind": "percent",
            "detail_value": len(due),
            "detail_kind": "integer",
            "detail": self.env._("customers to contact"),
            "action": self._list_action(
                "retention_loyalty.retention_customer_stat_action",
                [*domain, ("contact_due", "=", True)],
            ),
        }

    def _tile_retained_revenue(self, company, today):
        if not self._readable("retention.customer.month"):
            return None
        this_month = month_start(today)
        last_month = add_months(this_month, -1)
        domain = [
            ("company_id", "=", company.id),
            ("month", ">=", last_month),
            ("month", "<=", this_month),
            ("buyer_kind", "=", "existing"),
            ("order_count", ">", 0),
        ]
        by_month = dict(
            self.env["retention.customer.month"]._read_group(
                domain, groupby=["month:month"], aggregates=["revenue_existing:sum"]
            )
        )
        this_month_domain = [
            ("company_id", "=", company.id),
            ("month", "=", this_month),
            ("buyer_kind", "=", "existing"),
            ("order_count", ">", 0),
        ]
        return {
            "key": "retained_revenue",
            "title": self.env._("Revenue from Existing Customers"),
            "subtitle": self.env._("this month"),
            "value": by_month.get(this_month, 0.0),
            "kind": "monetary",
            "detail_value": by_month.get(last_month, 0.0),
            "detail_kind": "monetary",
            "detail": self.env._("last month"),
            "action": self._list_action(
                "retention_loyalty.retention_customer_month_action_revenue", this_month_domain
            ),
        }

    def _tile_points_liability(self, company, today):
        if not self._readable("retention.points.liability"):
            return None
        domain = [("company_id", "=", company.id)]
        # A SQL view over the ledger and the programs: pending writes must reach the database.
        self.env.flush_all()
        [(points, value)] = self.env["retention.points.liability"]._read_group(
            domain, aggregates=["points:sum", "value:sum"]
        )
        [(expiring,)] = self.env["retention.points.entry"]._read_group(
            [
                ("company_id", "=", company.id),
                ("remaining", ">", 0),
                ("expiry_date", ">=", today),
                ("expiry_date", "<=", today + timedelta(days=EXPIRY_HORIZON_DAYS)),
            ],
            aggregates=["remaining:sum"],
        )
        return {
            "key": "points_liability",
            "title": self.env._("Points Liability"),
            "value": value or 0.0,
            "kind": "monetary",
            "detail_value": points or 0.0,
            "detail_kind": "integer",
            "detail": self.env._(
                "points outstanding, %(expiring)s of them expire within %(days)s days",
                expiring=formatLang(self.env, expiring or 0.0, digits=0),
                days=EXPIRY_HORIZON_DAYS,
            ),
            "action": self._list_action(
                "retention_loyalty.retention_points_liability_action", domain
            ),
        }

    def _acquisition_spend(self, company, start, end):
        """What winning customers cost between ``start`` and ``end`` (a whole
        month): the fixed monthly amount, or the expenses (negative amounts)
        booked on the acquisition analytic account."""
        if company.retention_acquisition_source == "fixed":
            return company.retention_acquisition_monthly
        account = company.retention_acquisition_analytic_id
        if not account:
            return 0.0
        # Administrators only reach this (see the tile): the sum, not the lines.
        [(spent,)] = (
            self.env["account.analytic.line"]
            .sudo()
            ._read_group(
                [
                    ("account_id", "=", account.id),
                    ("company_id", "in", [company.id, False]),
                    ("date", ">=", start),
                    ("date", "<=", end),
                    ("amount", "<", 0),
                ],
                aggregates=["amount:sum"],
            )
        )
        return -(spent or 0.0)

    def _tile_winning_vs_keeping(self, company, today):
        """Last month's acquisition spend per new customer next to the
        incentive costs per retained customer (customers of the Retention
        dashboard's months). Economics for administrators."""
        if not (
            self.env.user.has_group("retention_loyalty.group_retention_manager")
            and self._readable("retention.customer.month")
            and self._readable("retention.incentive.cost")
        ):
            return None
        start = add_months(month_start(today), -1)
        end = month_start(today) - timedelta(days=1)
        [(new, retained)] = self.env["retention.customer.month"]._read_group(
            [("company_id", "=", company.id), ("month", "=", start)],
            aggregates=["new_count:sum", "retained_count:sum"],
        )
        cost_domain = [
            ("company_id", "=", company.id),
            ("date", ">=", start),
            ("date", "<=", end),
        ]
        [(retention_cost,)] = self.env["retention.incentive.cost"]._read_group(
            cost_domain, aggregates=["amount:sum"]
        )
        spend = self._acquisition_spend(company, start, end)
        if not spend and not retention_cost:
            return None
        return {
            "key": "winning_vs_keeping",
            "title": self.env._("Cost per New Customer"),
            "subtitle": self.env._("last month, %(count)s new", count=new)
            if new
            else self.env._(
                "last month: no new customer for %(spend)s spent",
                spend=formatLang(self.env, spend, currency_obj=company.currency_id),
            ),
            "value": spend / new if new else 0.0,
            "kind": "monetary",
            "detail_value": (retention_cost or 0.0) / retained if retained else 0.0,
            "detail_kind": "monetary",
            "detail": self.env._(
                "incentive costs per retained customer (%(count)s retained)", count=retained or 0
            ),
            "action": self._list_action(
                "retention_loyalty.retention_incentive_cost_action", cost_domain
            ),
        }

    def _tile_mrr(self, company, today):
        if not self._readable("retention.subscription"):
            return None
        domain = [("company_id", "=", company.id), ("state", "=", "active")]
        [(count, mrr)] = self.env["retention.subscription"]._read_group(
            domain, aggregates=["__count", "mrr:sum"]
        )
        return {
            "key": "mrr",
            "title": self.env._("Monthly Recurring Revenue"),
            "value": mrr,
            "kind": "monetary",
            "detail_value": count,
            "detail_kind": "integer",
            "detail": self.env._("active subscriptions"),
            "action": self._list_action("retention_loyalty.retention_subscription_action", domain),
        }

    def _tile_churn(self, company, today):
        if not self._readable("retention.subscription.event"):
            return None
        domain = [
            ("company_id", "=", company.id),
            ("kind", "=", "close"),
            ("date", ">=", month_start(today)),
            ("date", "<=", today),
        ]
        [(closed, churned_mrr)] = self.env["retention.subscription.event"]._read_group(
            domain, aggregates=["__count", "churned_mrr:sum"]
        )
        return {
            "key": "churn",
            "title": self.env._("Churned MRR"),
            "subtitle": self.env._("this month"),
            "value": churned_mrr,
            "kind": "monetary",
            "detail_value": closed,
            "detail_kind": "integer",
            "detail": self.env._("subscriptions closed"),
            "action": self._list_action(
                "retention_loyalty.retention_subscription_event_action_churn", domain
            ),
        }
