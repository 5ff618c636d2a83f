from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..engine.clubs import check_thresholds, window_start

ACTIVE_STATES = ("active", "grace")


class RetentionClub(models.Model):
    """A customer club with its membership policy and its perks. Clubs of a
    ladder are its levels, ordered by sequence (the lowest first)."""

    _name = "retention.club"
    _description = "Customer Club"
    _inherit = ["mail.thread"]
    _order = "company_id, ladder_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10, help="Order of the levels of a ladder, lowest first.")
    active = fields.Boolean(default=True, tracking=True)
    color = fields.Integer()
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    ladder_id = fields.Many2one(
        "retention.club.ladder", check_company=True, index=True, tracking=True
    )
    perks_description = fields.Html(
        string="Perks", translate=True, help="What members get, shown to them in the portal."
    )
    policy = fields.Selection(
        [
            ("qualified", "Qualified automatically"),
            ("free", "Free enrolment"),
            ("paid", "Paid membership"),
            ("invitation", "By invitation"),
        ],
        required=True,
        default="qualified",
        tracking=True,
    )
    portal_joinable = fields.Boolean(
        string="Join in the Portal",
        tracking=True,
        help="Customers join and leave this free club themselves in the portal.",
    )
    portal_terms = fields.Html(
        string="Terms", translate=True, help="What customers accept when they join in the portal."
    )
    # Qualification
    qualification_measure = fields.Selection(
        [("revenue", "Revenue"), ("points", "Loyalty points earned")],
        string="Qualify On",
        default="revenue",
        required=True,
    )
    points_program_id = fields.Many2one(
        "loyalty.program",
        check_company=True,
        domain="[('program_type', '=', 'loyalty')]",
    )
    qualification_threshold = fields.Float(
        string="Threshold", help="Revenue (company currency, untaxed) or points in the window."
    )
    window_kind = fields.Selection(
        [("trailing", "Last N days"), ("calendar_year", "Calendar year to date")],
        string="Window",
        default="trailing",
        required=True,
    )
    window_days = fields.Integer(string="Window (days)", default=365)
    grace_days = fields.Integer(
        string="Grace (days)",
        default=30,
        help="A member who no longer qualifies keeps the level this many days before moving down.",
    )
    # Paid membership
    product_id = fields.Many2one(
        "product.product", string="Membership Product", check_company=True, tracking=True
    )
    duration_months = fields.Integer(string="Duration (months)", default=12)
    start_on = fields.Selection(
        [("confirm", "Order confirmation"), ("paid", "Invoice paid")],
        string="Membership Starts On",
        default="confirm",
        required=True,
    )
    renewal_days = fields.Integer(
        string="Renewal (days before end)",
        default=30,
        help="A renewal quotation and an activity for the salesperson are created this many "
        "days before a paid membership ends.",
    )
    # Perks
    pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Member Pricelist",
        check_company=True,
        help="Applied to the member's new quotations.",
    )
    points_multiplier = fields.Float(default=1.0)
    program_ids = fields.Many2many(
        "loyalty.program",
        "loyalty_program_retention_club_rel",
        "club_id",
        "program_id",
        string="Member-only Programs",
        check_company=True,
    )
    welcome_template_id = fields.Many2one(
        "mail.template",
        domain=[("model", "=", "retention.club.membership")],
        default=lambda self: self.env.ref(
            "retention_loyalty.mail_template_club_welcome", raise_if_not_found=False
        ),
    )
    upgrade_template_id = fields.Many2one(
        "mail.template",
        domain=[("model", "=", "retention.club.membership")],
        help="Sent when a customer moves up to this level of a ladder.",
        default=lambda self: self.env.ref(
            "retention_loyalty.mail_template_club_upgrade", raise_if_not_found=False
        ),
    )
    downgrade_template_id = fields.Many2one(
        "mail.template",
        domain=[("model", "=", "retention.club.membership")],
        default=lambda self: self.env.ref(
            "retention_loyalty.mail_template_club_downgrade", raise_if_not_found=False
        ),
    )
    membership_ids = fields.One2many("retention.club.membership", "club_id")
    member_count = fields.Integer(compute="_compute_member_figures", string="Members")
    member_revenue_12m = fields.Monetary(
        compute="_compute_member_figures",
        string="Members' Revenue (12 months)",
        currency_field="currency_id",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")

    @api.constrains(
        "policy",
        "qualification_threshold",
        "window_kind",
        "window_days",
        "grace_days",
        "qualification_measure",
        "points_program_id",
        "product_id",
        "duration_months",
        "points_multiplier",
        "renewal_days",
        "portal_joinable",
    )
    def _check_policy(self):
        for club in self:
            problem = club._policy_problem()
            if problem:
                raise ValidationError(
                    self.env._("Club %(club)s: %(problem)s", club=club.name, problem=problem)
                )
        self._check_ladder()

    def _policy_problem(self):
        self.ensure_one()
        if self.points_multiplier <= 0:
            return self.env._("the points multiplier must be positive.")
        if self.portal_joinable and self.policy != "free":
            return self.env._("only free clubs can be joined in the portal.")
        if self.policy == "qualified":
            if self.qualification_threshold <= 0:
                return self.env._("the threshold must be above zero.")
            if self.window_kind == "trailing" and self.window_days <= 0:
                return self.env._("the qualification window must last at least one day.")
            if self.grace_days < 0:
                return self.env._("the grace period cannot be negative.")
            if self.qualification_measure == "points" and not self.points_program_id:
                return self.env._("qualifying on points needs a points program.")
        if self.policy == "paid":
            if not self.product_id:
                return self.env._("a paid club needs a membership product.")
            if self.duration_months <= 0:
                return self.env._("a paid membership must last at least one month.")
            if self.renewal_days < 0:
                return self.env._("the renewal cannot come after the end.")
        return False

    @api.constrains("ladder_id", "sequence")
    def _check_ladder(self):
        for ladder in self.ladder_id:
            levels = ladder.club_ids.sorted(lambda club: (club.sequence, club.id))
            if len(set(levels.mapped("policy"))) > 1:
                raise ValidationError(
                    self.env._(
                        "The levels of ladder %(ladder)s must share one policy.", ladder=ladder.name
                    )
                )
            if levels[:1].policy != "qualified":
                continue
            rules = {
                (c.qualification_measure, c.window_kind, c.window_days, c.points_program_id.id)
                for c in levels
            }
            if len(rules) > 1:
                raise ValidationError(
                    self.env._(
                        "The levels of ladder %(ladder)s must qualify on the same measure and "
                        "window.",
                        ladder=ladder.name,
                    )
                )
            try:
                check_thresholds(levels.mapped("qualification_threshold"))
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "Ladder %(ladder)s: %(error)s Levels from the lowest: %(levels)s.",
                        ladder=ladder.name,
                        error=str(error),
                        levels=", ".join(
                            f"{club.name} ({club.qualification_threshold:g})" for club in levels
                        ),
                    )
                ) from error

    @api.model
    @tools.ormcache()
    def _retention_setup(self):
        """What order confirmation and quotations need to know about clubs,
        cached until a club or a member-only program changes: the products of
        paid clubs, companies with qualified clubs or with clubs at all, and
        the clubs each member-only program is limited to."""
        clubs = self.sudo().search([("company_id", "!=", False)])  # configuration: a few records
        programs = self.env["loyalty.program"].sudo().search([("retention_club_ids", "!=", False)])
        return {
            "paid_product_ids": frozenset(
                clubs.filtered(lambda club: club.policy == "paid").product_id.ids
            ),
            "qualified_company_ids": frozenset(
                clubs.filtered(lambda club: club.policy == "qualified").company_id.ids
            ),
            "club_company_ids": frozenset(clubs.company_id.ids),
            "member_only": {
                program.id: frozenset(program.retention_club_ids.ids) for program in programs
            },
        }

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        clubs = super().create(vals_list)
        clubs._retention_enable_pricelists()
        return clubs

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()

    def write(self, vals):
        self.env.registry.clear_cache()
        if vals.get("active") is False:
            counts = dict(
                self.env["retention.club.membership"]._read_group(
                    [("club_id", "in", self.ids), ("state", "in", ("pending", *ACTIVE_STATES))],
                    ["club_id"],
                    ["__count"],
                )
            )
            busy = [f"{club.name} ({counts[club]})" for club in self if counts.get(club)]
            if busy:
                raise UserError(
                    self.env._(
                        "End or cancel the memberships of these clubs before archiving them: "
                        "%(clubs)s.",
                        clubs=", ".join(busy),
                    )
                )
        res = super().write(vals)
        if vals.get("pricelist_id"):
            self._retention_enable_pricelists()
        return res

    def _retention_enable_pricelists(self):
        """Member prices need Odoo's Pricelists feature: without it, saving the
        settings would archive every pricelist and silently end them."""
        feature = self.env.ref("product.group_product_pricelist")
        if (
            self.filtered("pricelist_id")
            and feature not in self.env.ref("base.group_user").implied_ids
        ):
            # Creating or editing clubs is already checked: the feature follows.
            self.env.ref("base.group_user").sudo()._apply_group(feature)

    def _compute_member_figures(self):
        counts = dict(
            self.env["retention.club.membership"]._read_group(
                [("club_id", "in", self.ids), ("state", "in", ACTIVE_STATES)],
                ["club_id"],
                ["__count"],
            )
        )
        memberships = self.env["retention.club.membership"].search(
            [("club_id", "in", self.ids), ("state", "in", ACTIVE_STATES)]
        )
        revenue = {
            (partner.id, company.id): amount
            for partner, company, amount in self.env["retention.customer.stat"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", memberships.partner_id.ids),
                    ("company_id", "in", self.company_id.ids),
                ],
                ["partner_id", "company_id"],
                ["revenue_12m:sum"],
            )
        }
        revenue_by_club = defaultdict(float)
        for membership in memberships:
            revenue_by_club[membership.club_id.id] += revenue.get(
                (membership.partner_id.id, membership.company_id.id), 0.0
            )
        for club in self:
            club.member_count = counts.get(club, 0)
            club.member_revenue_12m = revenue_by_club[club.id]

    def action_view_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_club_membership_action"
        )
        action["domain"] = [("club_id", "=", self.id)]
        action["context"] = {"default_club_id": self.id, "search_default_current": 1}
        return action

    # ------------------------------------------------------------------ qualification

    def _qualification_values(self, today, partner_ids=None):
        """Value of each customer (commercial partner id) over the window of
        these clubs (levels of one ladder, or one club), ending ``today``."""
        club = self[:1]
        company = club.company_id
        start = window_start(today, club.window_kind, club.window_days)
        if club.qualification_measure == "points":
            partner_filter = (
                SQL(
                    "AND partner.commercial_partner_id IN (SELECT unnest(%s::int[]))",
                    list(partner_ids),
                )
                if partner_ids is not None
                else SQL()
            )
            self.env["retention.points.entry"].flush_model()
            query = SQL(
                """SELECT partner.commercial_partner_id, sum(entry.points)
                     FROM retention_points_entry entry
                     JOIN res_partner partner ON partner.id = entry.partner_id
                    WHERE entry.program_id = %(program)s
                      AND entry.date BETWEEN %(start)s AND %(today)s
                      AND (entry.kind IN ('earn', 'bonus', 'refund')
                           OR (entry.kind = 'cancel' AND entry.points < 0))
                      %(partner_filter)s
                 GROUP BY 1""",
                program=club.points_program_id.id,
                start=start,
                today=today,
                partner_filter=partner_filter,
            )
        else:
            self.env["sale.order"].flush_model()
            self.env["account.move"].flush_model()
            query = SQL(
                """SELECT partner_id, sum(amount) FROM (%(purchases)s) purchases
                    WHERE day >= %(start)s GROUP BY partner_id""",
                purchases=self.env["retention.customer.stat"]._purchases_query(
                    company, today, partner_ids, with_margin=False
                ),
                start=start,
            )
        return dict(self.env.execute_query(query))

    @api.model
    def _qualified_groups(self, company_ids=None):
        """Qualified clubs in groups judged together: each ladder, and each
        club outside a ladder."""
        domain = [("policy", "=", "qualified")]
        if company_ids is not None:
            domain.append(("company_id", "in", company_ids))
        groups = defaultdict(lambda: self.env["retention.club"])
        for club in (
            self.sudo()
            .search(domain)
            .filtered(lambda club: not club.ladder_id or club.ladder_id.active)
        ):
            groups[club.ladder_id or club] |= club
        return [clubs.sorted(lambda club: (club.sequence, club.id)) for clubs in groups.values()]

    def _membership_end(self, start):
        """Last day of a paid membership starting on ``start``."""
        self.ensure_one()
        return start + relativedelta(months=self.duration_months, days=-1)

    def _oldest_counted_day(self, today, partner_id):
        """First purchase day inside the window that counts for a customer's
        value today: the value holds until it leaves the window."""
        start = window_start(today, self.window_kind, self.window_days)
        purchases = self.env["retention.customer.stat"]._purchases_query(
            self.company_id, today, [partner_id], with_margin=False
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT min(day) FROM (%s) purchases WHERE day >= %s AND amount > 0",
                purchases,
                start,
            )
        )
        return rows[0][0] if rows else None

    def _grace_end(self, today):
        self.ensure_one()
        return today + timedelta(days=self.grace_days)
