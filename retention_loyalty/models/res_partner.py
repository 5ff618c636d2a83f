import logging
import math
import threading
from collections import defaultdict
from datetime import date, timedelta

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date, formatLang

from ..engine.baskets import PastOrder, reorder_lines
from ..engine.bonus import birthdays_between, is_profile_complete
from ..engine.clubs import next_level, window_end
from ..engine.contacts import Touch, latest_touch
from ..engine.playbooks import CATCH_UP_DAYS
from ..engine.recurrence import Recurrence
from ..engine.referrals import new_code
from .retention_customer_stat import RISK_LEVEL_SELECTION

_logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("retention_birthday", "retention_preference_ids", "retention_marketing_consent")

CONTACT_KINDS = [
    ("order", "Order"),
    ("activity", "Activity Done"),
    ("message", "Message Sent"),
    ("event", "Event Attended"),
]


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
        string="Birthday",
        help="For birthday follow-ups of retention playbooks and the loyalty programs' "
        "birthday bonus.",
    )
    retention_preference_ids = fields.Many2many(
        "product.category",
        "res_partner_retention_preference_rel",
        "partner_id",
        "category_id",
        string="Interests",
        help="Product categories the customer told us they like.",
    )
    retention_marketing_consent = fields.Selection(
        [("yes", "Agreed"), ("no", "Declined")],
        string="Marketing Consent",
        help="The customer's answer to receiving marketing messages; empty until asked.",
    )
    retention_profile_complete = fields.Boolean(
        compute="_compute_retention_profile_complete",
        string="Profile Complete",
        help="Birthday, at least one interest, and an answer (yes or no) to the marketing "
        "consent question: a complete profile earns the loyalty programs' profile bonus. "
        "Declining counts as an answer: a bonus for agreeing only would buy the consent.",
    )

    @api.depends(*PROFILE_FIELDS)
    def _compute_retention_profile_complete(self):
        for partner in self:
            partner.retention_profile_complete = is_profile_complete(
                partner.retention_birthday,
                len(partner.retention_preference_ids),
                partner.retention_marketing_consent,
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

    # ------------------------------------------------------------------ contact

    retention_last_contact_date = fields.Date(
        compute="_compute_retention_last_contact",
        string="Last Contact",
        help="The latest touch with the customer or its contacts: an order, an activity "
        "marked done, a message or e-mail sent from the chatter, an event attended.",
    )
    retention_last_contact_kind = fields.Selection(
        CONTACT_KINDS, compute="_compute_retention_last_contact", string="Last Contact Kind"
    )
    retention_last_contact_label = fields.Char(
        compute="_compute_retention_last_contact", string="Last Contact By"
    )
    retention_last_contact_user_id = fields.Many2one(
        "res.users", compute="_compute_retention_last_contact", string="Last Contacted By"
    )

    @api.depends_context("company")
    def _compute_retention_last_contact(self):
        touches = self._retention_last_touches(self.env.company, self.commercial_partner_id.ids)
        kinds = dict(CONTACT_KINDS)
        users = self.env["res.users"].browse(
            {touch.user_id for touch in touches.values() if touch.user_id}
        )
        for partner in self:
            touch = touches.get(partner.commercial_partner_id.id)
            partner.retention_last_contact_date = touch and touch.day
            partner.retention_last_contact_kind = touch and touch.kind
            partner.retention_last_contact_user_id = touch and touch.user_id
            if touch:
                user = users.filtered(lambda user, touch=touch: user.id == touch.user_id)
                partner.retention_last_contact_label = " · ".join(
                    filter(None, (touch.label or kinds[touch.kind], user.name))
                )
            else:
                partner.retention_last_contact_label = False

    @api.model
    def _retention_last_touches(self, company, customer_ids, until=None):
        """{commercial partner id: latest Touch} for ``customer_ids`` in
        ``company`` (up to the day ``until``, if given): a few set-based
        queries, whatever the number of customers."""
        if not customer_ids:
            return {}
        self.env.flush_all()
        touches = defaultdict(list)
        activity_types = {}
        for query in self._retention_touch_queries(company, list(customer_ids), until):
            self.env.cr.execute(query)
            for customer_id, day, kind, user_id, activity_type_id in self.env.cr.fetchall():
                touches[customer_id].append((day, kind, user_id, activity_type_id))
                if activity_type_id:
                    activity_types[activity_type_id] = False
        names = {
            kind.id: kind.name
            for kind in self.env["mail.activity.type"].sudo().browse(activity_types).exists()
        }
        return {
            customer_id: latest_touch(
                Touch(day, kind, user_id, names.get(type_id, ""))
                for day, kind, user_id, type_id in rows
            )
            for customer_id, rows in touches.items()
        }

    @api.model
    def _retention_touch_queries(self, company, customer_ids, until=None):
        """Queries of (customer, day, kind, user, activity type), at most one
        row per customer and source, up to the day ``until`` if given; bridge
        addons add their own touches."""
        until = until or date.max
        xmlid_to_id = self.env["ir.model.data"]._xmlid_to_res_id
        activity_done = xmlid_to_id("mail.mt_activities")
        comment = xmlid_to_id("mail.mt_comment")
        chatter = SQL(
            """SELECT DISTINCT ON (customer_id)
                      customer_id, day, kind, user_id, activity_type_id
                 FROM (
                      SELECT p.commercial_partner_id AS customer_id, m.date::date AS day,
                             CASE WHEN m.mail_activity_type_id IS NULL
                                  THEN 'message' ELSE 'activity' END AS kind,
                             u.id AS user_id, m.mail_activity_type_id AS activity_type_id,
                             m.date AS at
                        FROM mail_message m
                        JOIN res_partner p ON p.id = m.res_id
                        JOIN res_users u ON u.partner_id = m.author_id AND NOT u.share
                       WHERE m.model = 'res.partner'
                         AND p.commercial_partner_id = ANY(%(customers)s)
                         AND m.date::date <= %(until)s AND %(touching)s
                      UNION ALL
                      SELECT p.commercial_partner_id, m.date::date,
                             CASE WHEN m.mail_activity_type_id IS NULL
                                  THEN 'message' ELSE 'activity' END,
                             u.id, m.mail_activity_type_id, m.date
                        FROM mail_message m
                        JOIN sale_order so ON so.id = m.res_id AND so.company_id = %(company)s
                        JOIN res_partner p ON p.id = so.partner_id
                        JOIN res_users u ON u.partner_id = m.author_id AND NOT u.share
                       WHERE m.model = 'sale.order'
                         AND p.commercial_partner_id = ANY(%(customers)s)
                         AND m.date::date <= %(until)s AND %(touching)s
                 ) touches
             ORDER BY customer_id, at DESC""",
            customers=customer_ids,
            company=company.id,
            until=until,
            touching=SQL(
                """((m.subtype_id = %s AND m.mail_activity_type_id IS NOT NULL)
                    OR (m.subtype_id = %s
                        AND m.message_type IN ('comment', 'email', 'email_outgoing')))""",
                activity_done,
                comment,
            ),
        )
        orders = SQL(
            """SELECT DISTINCT ON (p.commercial_partner_id)
                      p.commercial_partner_id, so.date_order::date, 'order', so.user_id, NULL::int
                 FROM sale_order so
                 JOIN res_partner p ON p.id = so.partner_id
                WHERE so.state = 'sale' AND so.company_id = %(company)s
                  AND so.date_order::date <= %(until)s
                  AND p.commercial_partner_id = ANY(%(customers)s)
             ORDER BY p.commercial_partner_id, so.date_order DESC""",
            customers=customer_ids,
            company=company.id,
            until=until,
        )
        return [chatter, orders]

    # Text, not a Many2many: Odoo caches a new record's x2many fields as
    # empty, so an e-mail sent in the transaction that created the customer
    # would suggest nothing.
    retention_suggested_products = fields.Char(
        compute="_compute_retention_suggested_products",
        string="Suggested Products",
        help="Products bought together with this customer's that they do not buy yet, the "
        "strongest links first (Retention > Reporting > Products Bought Together).",
    )

    @api.depends_context("company")
    def _compute_retention_suggested_products(self):
        suggestions = (
            self.env["retention.product.affinity"]
            .sudo()
            ._suggestions(self.env.company, self.commercial_partner_id.ids)
        )
        for partner in self:
            products = suggestions.get(partner.commercial_partner_id.id)
            partner.retention_suggested_products = products and ", ".join(products.mapped("name"))

    # ------------------------------------------------------------------ key accounts and hand-over

    retention_key_account = fields.Boolean(
        string="Key Account",
        help="Treat this customer as a key account whatever their value tier.",
    )
    retention_is_key_account = fields.Boolean(
        compute="_compute_retention_is_key_account",
        string="Is a Key Account",
        help="Flagged as a key account, or in a value tier whose customers are key accounts.",
    )
    retention_single_contact = fields.Boolean(
        compute="_compute_retention_is_key_account",
        string="Single Contact Person",
        help="A key account known through one contact person at most: when they leave, "
        "the relationship goes with them.",
    )

    @api.depends_context("company")
    @api.depends("retention_key_account", "commercial_partner_id.child_ids.active")
    def _compute_retention_is_key_account(self):
        commercial = self.commercial_partner_id
        people = dict(
            self.env["res.partner"]
            .with_context(active_test=True)
            ._read_group(
                [("parent_id", "in", commercial.ids), ("is_company", "=", False)],
                ["parent_id"],
                ["__count"],
            )
        )
        for partner in self:
            company = partner.commercial_partner_id
            key = company.retention_key_account or bool(
                company.retention_value_tier_id.key_accounts
            )
            partner.retention_is_key_account = key
            partner.retention_single_contact = (
                key and company.is_company and people.get(company, 0) <= 1
            )

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        if any(set(PROFILE_FIELDS) & set(vals) for vals in vals_list):
            partners._retention_grant_profile_bonus()
        return partners

    def write(self, vals):
        if "retention_referral_code" in vals and not self.env.su:
            raise UserError(self.env._("Referral codes are made by the system and never edited."))
        previous = {partner.id: partner.user_id for partner in self} if "user_id" in vals else {}
        result = super().write(vals)
        # From one salesperson to another: a first assignment hands nothing over.
        handed_over = self.filtered(
            lambda partner: (
                previous.get(partner.id)
                and partner.user_id
                and partner.user_id != previous[partner.id]
                and partner == partner.commercial_partner_id
            )
        )
        if handed_over:
            handed_over._retention_hand_over(previous)
        if set(PROFILE_FIELDS) & set(vals):
            self._retention_grant_profile_bonus()
        return result

    def _retention_hand_over(self, previous_users):
        """The customers' new salesperson takes over the open retention
        follow-ups of the previous one, with a note on where things stand.
        Runs after a write the user was allowed to make: the follow-ups belong
        to other users, hence sudo."""
        Activity = self.env["mail.activity"].sudo()
        open_items = Activity.search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "in", self.ids),
                "|",
                ("retention_playbook_id", "!=", False),
                ("retention_handover", "=", True),
            ]
        )
        # A second change replaces the previous hand-over note instead of piling up.
        open_items.filtered("retention_handover").unlink()
        followups = open_items.exists()
        quotations = dict(
            self.env["sale.order"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "child_of", self.ids),
                    ("state", "in", ("draft", "sent")),
                    ("company_id", "=", self.env.company.id),
                ],
                ["partner_id"],
                ["id:array_agg"],
            )
        )
        clubs = self._retention_current_clubs()
        subscriptions = (
            self.env["retention.subscription"]
            .sudo()
            .search([("partner_id", "in", self.ids), ("state", "in", ("active", "paused"))])
        )
        for partner in self:
            previous = previous_users.get(partner.id)
            moved = followups.filtered(
                lambda activity, partner=partner, previous=previous: (
                    activity.res_id == partner.id and activity.user_id == previous
                )
            )
            moved.write({"user_id": partner.user_id.id})
            orders = (
                self.env["sale.order"]
                .sudo()
                .browse(
                    [
                        order_id
                        for commercial_partner, order_ids in quotations.items()
                        if commercial_partner.commercial_partner_id == partner
                        for order_id in order_ids
                    ]
                )
            )
            partner.with_context(mail_activity_quick_update=True).activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=partner.user_id.id,
                summary=self.env._("Hand-over: %(customer)s", customer=partner.name),
                note=partner._retention_hand_over_note(
                    previous,
                    moved,
                    orders,
                    clubs.get(partner.id),
                    subscriptions.filtered(lambda sub, partner=partner: sub.partner_id == partner),
                ),
                retention_handover=True,
            )

    def _retention_hand_over_note(self, previous, followups, quotations, clubs, subscriptions):
        self.ensure_one()
        lines = []
        if previous:
            lines.append(self.env._("Previous salesperson: %(name)s", name=previous.name))
        if self.retention_last_contact_date:
            lines.append(
                self.env._(
                    "Last contact: %(date)s (%(what)s)",
                    date=format_date(self.env, self.retention_last_contact_date),
                    what=self.retention_last_contact_label,
                )
            )
        if followups:
            lines.append(
                self.env._(
                    "Follow-ups taken over: %(list)s",
                    list=", ".join(
                        f"{activity.summary or activity.activity_type_id.name} "
                        f"({format_date(self.env, activity.date_deadline)})"
                        for activity in followups
                    ),
                )
            )
        if quotations:
            amounts = {
                order: formatLang(self.env, order.amount_untaxed, currency_obj=order.currency_id)
                for order in quotations
            }
            lines.append(
                self.env._(
                    "Open quotations: %(list)s",
                    list=", ".join(f"{order.name} ({amounts[order]})" for order in quotations),
                )
            )
        if self.retention_points_balance:
            lines.append(
                self.env._(
                    "Loyalty points: %(points)s",
                    points=formatLang(self.env, self.retention_points_balance, digits=0),
                )
            )
        if clubs:
            lines.append(self.env._("Clubs: %(clubs)s", clubs=", ".join(clubs.mapped("name"))))
        if subscriptions:
            lines.append(
                self.env._(
                    "Subscriptions: %(list)s",
                    list=", ".join(f"{sub.name} ({sub.state})" for sub in subscriptions),
                )
            )
        if self.retention_single_contact:
            lines.append(self.env._("Key account with a single contact person: meet others."))
        return Markup("<ul>%s</ul>") % Markup().join(Markup("<li>%s</li>") % line for line in lines)

    # ------------------------------------------------------------------ quick reorder

    def _retention_recent_orders(self, company, last_orders):
        """{customer id: [PastOrder, ...] newest first} for these commercial
        partners: their last ``last_orders`` confirmed orders in ``company``
        (contacts' orders included; subscription periods and rewards left
        out), each product's quantity and unit price paid (net of discounts,
        before taxes), in one query."""
        if not self:
            return {}
        lines = self.env["retention.customer.stat"]._purchased_lines_query(
            company, customer_ids=self.ids
        )
        self.env.cr.execute(
            SQL(
                """WITH lines AS (
                       SELECT * FROM (%(lines)s) line WHERE NOT line.subscription
                   ),
                   recent AS (
                       SELECT order_model, order_id, currency_id, customer_id,
                              row_number() OVER (
                                  PARTITION BY customer_id
                                  ORDER BY date_order DESC, order_id DESC, order_model
                              ) AS rank
                         FROM (SELECT DISTINCT order_model, order_id, currency_id, customer_id,
                                      date_order
                                 FROM lines) bought
                   )
                   SELECT recent.customer_id, recent.order_model, recent.order_id,
                          recent.currency_id, lines.product_id, sum(lines.quantity),
                          sum(lines.subtotal) / sum(lines.quantity)
                     FROM recent
                     JOIN lines ON lines.order_model = recent.order_model
                               AND lines.order_id = recent.order_id
                    WHERE recent.rank <= %(last)s
                 GROUP BY recent.customer_id, recent.order_model, recent.order_id, recent.rank,
                          recent.currency_id, lines.product_id
                 ORDER BY recent.customer_id, recent.rank""",
                lines=lines,
                last=last_orders,
            )
        )
        orders = {}
        for (
            customer_id,
            order_model,
            order_id,
            currency_id,
            product_id,
            quantity,
            price,
        ) in self.env.cr.fetchall():
            order = orders.setdefault(
                (customer_id, order_model, order_id), PastOrder({}, {}, currency_id)
            )
            order.quantities[product_id] = quantity
            order.prices[product_id] = price
        history = defaultdict(list)
        for (customer_id, _model, _order_id), order in orders.items():  # already newest first
            history[customer_id].append(order)
        return history

    def _retention_quick_reorder_allowed(self):
        """Whether this portal contact may use the Quick reorder page: their
        company (commercial partner) is a key account in the current company.
        Read as the server: key accounts come from internal figures."""
        self.ensure_one()
        return bool(self.commercial_partner_id.sudo().retention_is_key_account)

    def _retention_quick_reorder_pricelist(self, company):
        """The pricelist a quotation of this contact gets in ``company``
        (theirs, or their club's): the prices the page shows."""
        self.ensure_one()
        order = (
            self.env["sale.order"]
            .with_company(company)
            .new({"partner_id": self.id, "company_id": company.id})
        )
        return order.pricelist_id

    def _retention_quick_reorder_offer(self, company):
        """What the Quick reorder page offers this contact in ``company``:
        {"lines": [{product, usual, quantity, last_quantity, last_price,
        last_currency, price}] (usual products first), "left_out": products
        of their last orders no longer sold, "currency": of the current
        prices}. A constant number of queries, whatever the history."""
        self.ensure_one()
        customer = self.commercial_partner_id
        history = customer._retention_recent_orders(
            company, company.retention_quick_reorder_last_orders
        ).get(customer.id, [])
        offered = reorder_lines(
            history,
            company.retention_quick_reorder_min_orders,
            company.retention_quick_reorder_last_orders,
        )
        products = (
            self.env["product.product"]
            .with_company(company)
            .with_context(active_test=False)
            .browse([line.product for line in offered])
        )
        sellable = products._retention_sellable_in(company)
        pricelist = self._retention_quick_reorder_pricelist(company)
        currency = pricelist.currency_id or company.currency_id
        prices = (
            pricelist._get_products_price(sellable, 1.0, currency=currency)
            if pricelist
            else {product.id: product.lst_price for product in sellable}
        )
        currencies = self.env["res.currency"].browse({line.last_currency for line in offered})
        return {
            "lines": [
                {
                    **line._asdict(),
                    "product": products.browse(line.product),
                    "last_currency": currencies.browse(line.last_currency),
                    "price": prices[line.product],
                }
                for line in offered
                if line.product in sellable.ids
            ],
            "left_out": products - sellable,
            "currency": currency,
        }

    def _retention_quick_reorder_basket(self, company, quantities):
        """The basket this contact asks for: ``quantities`` as submitted
        ({product id: quantity}, texts), checked. Returns ([(product,
        quantity)], archived products left out). Raises UserError on anything
        else than positive numbers (0 or empty skips a product) for products
        sold in ``company``."""
        basket = []
        unknown = False
        for product_key, quantity_text in quantities.items():
            try:
                quantity = float(quantity_text or 0)
            except (TypeError, ValueError) as error:
                raise UserError(
                    self.env._("Quantities must be numbers (0 to leave a product out).")
                ) from error
            if not math.isfinite(quantity) or quantity < 0:
                raise UserError(
                    self.env._("Quantities must be positive numbers (0 to leave a product out).")
                )
            if not quantity:
                continue
            try:
                basket.append((int(product_key), quantity))
            except ValueError:
                unknown = True
        products = (
            self.env["product.product"]
            .with_company(company)
            .with_context(active_test=False)
            .browse([product_id for product_id, _quantity in basket])
            .exists()
        )
        archived = products.filtered(lambda product: not product.active)
        unknown = unknown or {product_id for product_id, _quantity in basket} - set(products.ids)
        if unknown or (products - archived) - (products - archived)._retention_sellable_in(company):
            raise UserError(self.env._("Some of these products cannot be ordered here."))
        lines = [
            (products.browse(product_id), quantity)
            for product_id, quantity in basket
            if product_id not in archived.ids
        ]
        if not lines:
            raise UserError(self.env._("Choose a quantity for at least one product."))
        return lines, archived

    def _retention_quick_reorder_order(self, company, quantities):
        """A normal sales order of the submitted basket for this contact's
        company, this contact ordering: a quotation sent to them, or a
        confirmed order when the company says so. Archived products are left
        out and noted on the order."""
        self.ensure_one()
        lines, archived = self._retention_quick_reorder_basket(company, quantities)
        order = (
            self.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": self.id,
                    "company_id": company.id,
                    "origin": self.env._("Quick reorder"),
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": quantity})
                        for product, quantity in lines
                    ],
                }
            )
        )
        order.message_post(
            body=self.env._("Ordered by %(name)s from the Quick reorder page.", name=self.name),
            author_id=self.id,
        )
        if archived:
            order.message_post(
                body=self.env._(
                    "Left out (no longer sold): %(products)s",
                    products=", ".join(archived.mapped("display_name")),
                ),
                subtype_xmlid="mail.mt_comment",
            )
        if company.retention_quick_reorder_confirm:
            order.action_confirm()
        else:
            order.action_quotation_sent()
        return order

    def _retention_standing_order(self, company, quantities, interval, unit, first_day=None):
        """A subscription of the submitted basket for this contact's company,
        at their prices at each order: a draft the team starts, or running
        at once, as the company says. ``first_day``: of the first order, after
        today; by default one period from today."""
        self.ensure_one()
        lines, _archived = self._retention_quick_reorder_basket(company, quantities)
        recurrence = Recurrence(interval, unit)
        try:
            recurrence.validate()
        except ValueError as error:
            raise UserError(str(error)) from error
        Subscription = self.env["retention.subscription"].with_company(company)
        today = Subscription._company_today(company)
        first_day = first_day or recurrence.period_start(today, 1)
        if first_day <= today:
            raise UserError(
                self.env._(
                    "Choose a first order after today (%(today)s).",
                    today=format_date(self.env, today),
                )
            )
        customer = self.commercial_partner_id
        subscription = Subscription.create(
            {
                "partner_id": customer.id,
                "company_id": company.id,
                "user_id": customer.user_id.id,
                "interval": interval,
                "interval_unit": unit,
                "date_start": first_day,
                "pricelist_id": self._retention_quick_reorder_pricelist(company).id,
                "price_mode": "pricelist",
                "auto_confirm": company.retention_quick_reorder_confirm,
                "requested_by_id": self.id,
                "line_ids": [
                    Command.create({"product_id": product.id, "quantity": quantity})
                    for product, quantity in lines
                ],
            }
        )
        subscription.message_post(
            body=self.env._("Asked for by %(name)s from the Quick reorder page.", name=self.name),
            author_id=self.id,
        )
        if company.retention_standing_order_state == "active":
            subscription.action_activate()
        elif customer.user_id:
            subscription.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=customer.user_id.id,
                summary=self.env._(
                    "Start the standing order %(customer)s asked for", customer=customer.name
                ),
            )
        return subscription

    # ------------------------------------------------------------------ referrals

    retention_referral_code = fields.Char(
        string="Referral Code",
        copy=False,
        readonly=True,
        help="The customer's own code to refer new customers; made when first shown.",
    )

    retention_referral_ids = fields.One2many(
        "retention.referral", "referred_id", string="Referred By", readonly=True
    )
    retention_referral_waiting = fields.Boolean(
        compute="_compute_retention_referral_waiting",
        store=True,
        compute_sudo=True,
        help="Technical: a referral from the customer's sign-up waits for their first order.",
    )

    @api.depends("retention_referral_ids.state", "retention_referral_ids.first_order_id")
    def _compute_retention_referral_waiting(self):
        for partner in self:
            partner.retention_referral_waiting = any(
                referral.state == "pending" and not referral.first_order_id
                for referral in partner.retention_referral_ids
            )

    _sql_constraints = [
        (
            "retention_referral_code_unique",
            "UNIQUE(retention_referral_code)",
            "Two customers cannot have the same referral code.",
        )
    ]

    def _retention_referral_codes(self):
        """The referral code of each partner's commercial partner, by partner
        id; codes missing are made in one statement for all."""
        customers = self.commercial_partner_id
        missing = customers.filtered(lambda partner: not partner.retention_referral_code)
        if missing:
            rows = [(partner.id, new_code()) for partner in missing]
            self.env.cr.execute(
                SQL(
                    """UPDATE res_partner p SET retention_referral_code = v.code
                         FROM (VALUES %s) AS v(id, code)
                        WHERE p.id = v.id AND p.retention_referral_code IS NULL""",
                    SQL(", ").join(SQL("(%s, %s)", *row) for row in rows),
                )
            )
            missing.invalidate_recordset(["retention_referral_code"])
        return {
            partner.id: partner.commercial_partner_id.retention_referral_code for partner in self
        }

    def _retention_referral_url(self):
        self.ensure_one()
        code = self._retention_referral_codes()[self.id]
        return f"{self.get_base_url()}/referral/{code}"

    def _retention_grant_profile_bonus(self):
        """The profile bonus for the partners whose profile is complete (the
        write that completed it was the user's to make; the points are the
        program's to give, checked by the server)."""
        complete = self.sudo().filtered(
            lambda partner: partner.retention_profile_complete and not partner.is_company
        )
        if complete:
            today = fields.Date.context_today(self)
            self.env["loyalty.program"]._retention_grant_bonus(
                "profile", [(partner, today) for partner in complete]
            )

    @api.model
    def _cron_retention_bonus(self, batch_size=5000):
        """Birthdays celebrated today (and in the days a stopped cron missed,
        a week at most) and complete profiles not rewarded in this period yet,
        ``batch_size`` customers at a time: each batch commits (outside tests)
        and the cron runs again while customers are left. A second run gives
        nothing: the ledger knows which bonus each customer already has."""
        today = fields.Date.context_today(self)
        done = 0
        granted = self.env["retention.points.entry"]
        for source in ("birthday", "profile"):
            pairs = self._retention_bonus_due(source, today, batch_size - done)
            if pairs:
                partners = self.browse(partner_id for partner_id, _day in pairs).sudo()
                granted |= self.env["loyalty.program"]._retention_grant_bonus(
                    source, list(zip(partners, (day for _id, day in pairs), strict=True))
                )
                done += len(pairs)
            if done >= batch_size:
                break
        remaining = sum(
            len(self._retention_bonus_due(source, today)) for source in ("birthday", "profile")
        )
        if done and not granted and remaining:
            # The query and the grant disagree on who is due: stop rather than
            # run again and again on the same customers.
            _logger.warning("Bonus points: %s customers due but none could be given", remaining)
            remaining = 0
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        if done and not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return done

    @api.model
    def _retention_bonus_due(self, source, today, limit=None):
        """``[(partner id, day)]``: customers owed the ``source`` bonus
        ("birthday" or "profile") on some program, with the day it is earned,
        in one query."""
        if source == "birthday":
            days = birthdays_between(today - timedelta(days=CATCH_UP_DAYS - 1), today)
            if not days:
                return []
            earned = SQL(
                """SELECT p.id AS partner_id, p.company_id, v.day
                     FROM res_partner p
                     JOIN (VALUES %s) AS v(month, mday, day)
                       ON v.month = extract(month FROM p.retention_birthday)
                      AND v.mday = extract(day FROM p.retention_birthday)
                    WHERE p.active AND NOT p.is_company AND p.retention_birthday < v.day""",
                SQL(", ").join(
                    SQL("(%s, %s, %s::date)", month, mday, day)
                    for (month, mday), day in days.items()
                ),
            )
        else:
            earned = SQL(
                """SELECT p.id AS partner_id, p.company_id, %s::date AS day
                     FROM res_partner p
                    WHERE p.active AND NOT p.is_company
                      AND p.retention_birthday IS NOT NULL
                      AND p.retention_marketing_consent IS NOT NULL
                      AND EXISTS (SELECT 1 FROM res_partner_retention_preference_rel rel
                                   WHERE rel.partner_id = p.id)""",
                today,
            )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """WITH earned AS (%(earned)s)
                   SELECT DISTINCT earned.partner_id, earned.day
                     FROM earned
                     JOIN loyalty_program program
                       ON program.active AND program.program_type = 'loyalty'
                      AND program.%(points)s > 0
                      AND (program.company_id IS NULL OR earned.company_id IS NULL
                           OR program.company_id = earned.company_id)
                     JOIN res_partner customer ON customer.id = earned.partner_id
                    WHERE (NOT EXISTS (SELECT 1 FROM loyalty_program_retention_club_rel club
                                        WHERE club.program_id = program.id)
                           OR EXISTS (SELECT 1 FROM loyalty_program_retention_club_rel club
                                        JOIN retention_club_membership membership
                                          ON membership.club_id = club.club_id
                                       WHERE club.program_id = program.id
                                         AND membership.partner_id = customer.commercial_partner_id
                                         AND membership.state IN ('active', 'grace')))
                      AND NOT EXISTS (
                          SELECT 1 FROM retention_points_entry entry
                           WHERE entry.partner_id = earned.partner_id
                             AND entry.program_id = program.id
                             AND entry.kind = 'bonus' AND entry.bonus_source = %(source)s
                             AND entry.bonus_period = CASE program.retention_bonus_period
                                 WHEN 'year' THEN to_char(earned.day, 'YYYY')
                                 WHEN 'month' THEN to_char(earned.day, 'YYYY-MM')
                                 ELSE 'once' END)
                 ORDER BY earned.partner_id
                    %(limit)s""",
                earned=earned,
                points=SQL.identifier(f"retention_bonus_{source}_points"),
                source=source,
                limit=SQL("LIMIT %s", limit) if limit else SQL(""),
            )
        )
        return self.env.cr.fetchall()
