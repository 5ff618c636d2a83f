from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from ..engine.clubs import next_level, window_end
from .retention_customer_stat import RISK_LEVEL_SELECTION


class ResPartner(models.Model):
    _inherit = "res.partner"

    retention_stat_ids = fields.One2many(
        "retention.customer.stat", "partner_id", string="Retention Figures"
    )
    retention_stat_id = fields.Many2one(
        "retention.customer.stat",
        compute="_compute_retention_stat_id",
        search="_search_retention_stat_id",
        string="Retention Figures (Current Company)",
    )
    retention_value_tier_id = fields.Many2one(
        "retention.value.tier",
        compute="_compute_retention_stat_id",
        search="_search_retention_value_tier_id",
        string="Value Tier",
    )
    retention_risk_level = fields.Selection(
        RISK_LEVEL_SELECTION,
        compute="_compute_retention_stat_id",
        search="_search_retention_risk_level",
        string="Churn Risk",
    )
    retention_currency_id = fields.Many2one(
        related="retention_stat_id.currency_id", string="Retention Currency"
    )
    retention_first_order_date = fields.Date(related="retention_stat_id.first_order_date")
    retention_last_order_date = fields.Date(related="retention_stat_id.last_order_date")
    retention_order_count = fields.Integer(related="retention_stat_id.order_count")
    retention_usual_gap_days = fields.Float(related="retention_stat_id.usual_gap_days")
    retention_days_since_last_order = fields.Integer(
        related="retention_stat_id.days_since_last_order"
    )
    retention_revenue_12m = fields.Monetary(
        related="retention_stat_id.revenue_12m", currency_field="retention_currency_id"
    )
    retention_revenue_total = fields.Monetary(
        related="retention_stat_id.revenue_total", currency_field="retention_currency_id"
    )
    retention_average_order_value = fields.Monetary(
        related="retention_stat_id.average_order_value", currency_field="retention_currency_id"
    )
    retention_p_alive = fields.Float(related="retention_stat_id.p_alive")
    retention_expected_next_order_date = fields.Date(
        related="retention_stat_id.expected_next_order_date"
    )
    retention_overdue_since = fields.Date(related="retention_stat_id.overdue_since")
    retention_risk_reason = fields.Char(related="retention_stat_id.risk_reason")
    retention_clv = fields.Monetary(
        related="retention_stat_id.clv", currency_field="retention_currency_id"
    )
    retention_segment_history_ids = fields.One2many(
        "retention.segment.history",
        compute="_compute_retention_segment_history_ids",
        string="Segment History",
    )

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_retention_stat_id(self):
        """The figures of the partner's commercial entity in the current
        company: one search for the whole recordset."""
        stats = self.env["retention.customer.stat"].search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ]
        )
        by_partner = {stat.partner_id.id: stat for stat in stats}
        empty = self.env["retention.customer.stat"]
        for partner in self:
            stat = by_partner.get(partner.commercial_partner_id.id, empty)
            partner.retention_stat_id = stat
            partner.retention_value_tier_id = stat.value_tier_id
            partner.retention_risk_level = stat.risk_level

    @api.depends_context("company")
    def _compute_retention_segment_history_ids(self):
        histories = self.env["retention.segment.history"].search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ]
        )
        for partner in self:
            partner.retention_segment_history_ids = histories.filtered(
                lambda history, partner=partner: history.partner_id == partner.commercial_partner_id
            )

    def _search_retention_stat_field(self, field_name, operator, value):
        return [
            (
                "commercial_partner_id.retention_stat_ids",
                "any",
                [(field_name, operator, value), ("company_id", "=", self.env.company.id)],
            )
        ]

    def _search_retention_stat_id(self, operator, value):
        return self._search_retention_stat_field("id", operator, value)

    def _search_retention_value_tier_id(self, operator, value):
        return self._search_retention_stat_field("value_tier_id", operator, value)

    def _search_retention_risk_level(self, operator, value):
        return self._search_retention_stat_field("risk_level", operator, value)

    def action_view_retention_stat(self):
        self.ensure_one()
        stat = self.commercial_partner_id.retention_stat_id
        return {
            "type": "ir.actions.act_window",
            "res_model": "retention.customer.stat",
            "res_id": stat.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------ loyalty points

    retention_points_balance = fields.Float(
        compute="_compute_retention_points", string="Loyalty Points"
    )
    retention_points_next_expiry_date = fields.Date(
        compute="_compute_retention_points", string="Points Next Expiry"
    )
    retention_points_next_expiry = fields.Float(
        compute="_compute_retention_points", string="Points Expiring Next"
    )

    @api.depends_context("company", "uid")
    def _compute_retention_points(self):
        """Balance and next expiry over the customer's loyalty cards in the
        current company, read in one pass for all partners, as far as the
        user may read loyalty cards."""
        Card = self.env["loyalty.card"]
        partners = self.commercial_partner_id
        cards = (
            Card.search(
                [
                    # Cards are often made out to the contact who ordered.
                    ("partner_id", "child_of", partners.ids),
                    ("program_id.program_type", "=", "loyalty"),
                    ("company_id", "in", [False, self.env.company.id]),
                ]
            )
            if Card.has_access("read")
            else Card
        )
        by_partner = defaultdict(lambda: self.env["loyalty.card"])
        for card in cards:
            by_partner[card.partner_id.commercial_partner_id.id] |= card
        for partner in self:
            own = by_partner[partner.commercial_partner_id.id]
            partner.retention_points_balance = sum(own.mapped("points"))
            dated = own.filtered("retention_next_expiry_date")
            first = min(dated.mapped("retention_next_expiry_date"), default=False)
            partner.retention_points_next_expiry_date = first
            partner.retention_points_next_expiry = sum(
                dated.filtered(
                    lambda card, day=first: card.retention_next_expiry_date == day
                ).mapped("retention_next_expiry_points")
            )

    retention_birthday = fields.Date(
        string="Birthday", help="For birthday follow-ups of retention playbooks."
    )
    retention_playbook_run_ids = fields.One2many(
        "retention.playbook.run", "partner_id", string="Playbook History"
    )
    retention_club_membership_ids = fields.One2many(
        "retention.club.membership", "partner_id", string="Club Memberships"
    )
    retention_subscription_ids = fields.One2many(
        "retention.subscription", "partner_id", string="Subscriptions"
    )
    retention_subscription_count = fields.Integer(
        string="Subscription Count", compute="_compute_retention_subscription_count"
    )

    def _compute_retention_subscription_count(self):
        # Subscriptions belong to the commercial partner; contacts show theirs.
        counts = {}
        if self.env["retention.subscription"].has_access("read"):
            counts = dict(
                self.env["retention.subscription"]._read_group(
                    [("partner_id", "in", self.commercial_partner_id.ids)],
                    ["partner_id"],
                    ["__count"],
                )
            )
        for partner in self:
            partner.retention_subscription_count = counts.get(partner.commercial_partner_id, 0)

    def action_view_retention_subscriptions(self):
        self.ensure_one()
        customer = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_subscription_action"
        )
        action["domain"] = [("partner_id", "=", customer.id)]
        action["context"] = {"default_partner_id": customer.id}
        return action

    def _retention_points_multiplier(self, company):
        """Factor applied to the loyalty points this customer earns in
        ``company``: the highest multiplier of their tags and current clubs."""
        self.ensure_one()
        clubs = self.env["retention.club"]
        if company.id in self.env["retention.club"]._retention_setup()["club_company_ids"]:
            clubs = self._retention_current_clubs()[self.id].filtered(
                lambda club: club.company_id == company
            )
        # Read as the server: the multipliers are an administrator's setting
        # that every salesperson's order applies, in the order's company.
        tag_multipliers = [
            multiplier
            for multiplier in self.category_id.sudo()
            .with_company(company)
            .mapped("retention_points_multiplier")
            if multiplier > 0  # not set in this company
        ]
        return max(tag_multipliers + clubs.mapped("points_multiplier"), default=1.0)

    def _retention_portal_clubs(self):
        """What the customer sees in the portal: their current clubs and, on
        each qualified ladder, the next level, what it needs and by when."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        memberships = (
            self.env["retention.club.membership"]
            .sudo()
            .search([("partner_id", "=", self.id), ("state", "in", ("active", "grace"))])
        )
        lines = [
            {"club": membership.club_id, "membership": membership, "next": False}
            for membership in memberships
        ]
        for clubs in self.env["retention.club"]._qualified_groups([self.env.company.id]):
            value = clubs._qualification_values(today, [self.id]).get(self.id, 0.0)
            upcoming = next_level(value, clubs.mapped("qualification_threshold"))
            if not upcoming:
                continue
            club = clubs[upcoming.level]
            by = window_end(today, club.window_kind, club.window_days)
            if club.window_kind == "trailing" and club.qualification_measure == "revenue":
                # What counts today starts leaving the window after its oldest purchase.
                oldest = club._oldest_counted_day(today, self.id)
                if oldest:
                    by = min(by, oldest + timedelta(days=club.window_days - 1))
            advice = {
                "club": club,
                "missing": upcoming.missing,
                "measure": club.qualification_measure,
                "by": by,
                "currency": club.currency_id,
            }
            held = next((line for line in lines if line["club"] in clubs), None)
            if held:
                held["next"] = advice
            else:
                lines.append({"club": False, "membership": False, "next": advice})
        return lines

    def _retention_current_clubs(self):
        """Clubs each of these commercial partners currently belongs to (active
        or in grace), keyed by partner id, in one read."""
        memberships = (
            self.env["retention.club.membership"]
            .sudo()
            .search([("partner_id", "in", self.ids), ("state", "in", ("active", "grace"))])
        )
        clubs = defaultdict(lambda: self.env["retention.club"])
        for membership in memberships:
            clubs[membership.partner_id.id] |= membership.club_id
        return clubs

    def action_view_loyalty_cards(self):
        # Odoo's card action is called "Coupons" whatever the cards are: name
        # it after the kinds of programs of the customer's cards.
        action = super().action_view_loyalty_cards()
        cards = self.env["loyalty.card"].search(action["domain"])
        item_names = self.env["loyalty.program"]._program_items_name()
        names = list(
            dict.fromkeys(item_names[kind] for kind in cards.program_id.mapped("program_type"))
        )
        if names:
            action["name"] = action["display_name"] = ", ".join(names)
        return action

    def action_view_retention_points(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_points_entry_action"
        )
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id)]
        return action
