import threading
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine.bonus import birthdays_between, is_profile_complete
from ..engine.playbooks import CATCH_UP_DAYS

PROFILE_FIELDS = ("retention_birthday", "retention_preference_ids", "retention_marketing_consent")


class ResPartner(models.Model):
    """What a customer tells about themselves, and the bonus points it earns:
    a complete profile and their birthday."""

    _inherit = "res.partner"

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

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        if any(set(PROFILE_FIELDS) & set(vals) for vals in vals_list):
            partners._retention_grant_profile_bonus()
        return partners

    def write(self, vals):
        result = super().write(vals)
        if set(PROFILE_FIELDS) & set(vals):
            self._retention_grant_profile_bonus()
        return result

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

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_retention_bonus(self, batch_size=5000):
        """Birthdays celebrated today (and in the days a stopped cron missed,
        a week at most) and complete profiles not rewarded in this period yet,
        ``batch_size`` customers at a time: each batch commits (outside tests)
        and the cron runs again while customers are left. A second run gives
        nothing: the ledger knows which bonus each customer already has."""
        today = fields.Date.context_today(self)
        done = 0
        for source in ("birthday", "profile"):
            pairs = self._retention_bonus_due(source, today, batch_size - done)
            if pairs:
                partners = self.browse(partner_id for partner_id, _day in pairs).sudo()
                self.env["loyalty.program"]._retention_grant_bonus(
                    source, list(zip(partners, (day for _id, day in pairs), strict=True))
                )
                done += len(pairs)
            if done >= batch_size:
                break
        remaining = sum(
            len(self._retention_bonus_due(source, today)) for source in ("birthday", "profile")
        )
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
                    WHERE NOT EXISTS (
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
