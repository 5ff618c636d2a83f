from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from .bonus_common import BonusRaceMixin, bonus_entries, make_bonus_program
from .common import PointsCardMixin


class BonusCase(PointsCardMixin, TransactionCase):
    """A loyalty program paying 50 points for a complete profile and 20 on
    a birthday, each once per calendar year."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.program = make_bonus_program(cls.env, "Bonus Club", profile=50, birthday=20)
        cls.salesman = new_test_user(
            cls.env,
            login="rl_bonus_salesman",
            groups="sales_team.group_sale_salesman,base.group_partner_manager",
        )
        cls.interest = cls.env["product.category"].create({"name": "Coffee beans"})
        cls.customer = cls.env["res.partner"].create(
            {"name": "Bonus Customer", "email": "bonus@example.com"}
        )

    def _cron(self, **kwargs):
        with patch.object(type(self.env["ir.cron"]), "_notify_progress", autospec=True) as progress:
            done = self.env["res.partner"]._cron_retention_bonus(**kwargs)
        [call] = progress.call_args_list
        return done, call.kwargs["remaining"]

    def _complete_profile(self, partner=None, user=None):
        partner = (partner or self.customer).with_user(user or self.salesman)
        partner.write({"retention_birthday": date(1980, 7, 2)})
        partner.write({"retention_preference_ids": [(4, self.interest.id)]})
        partner.write({"retention_marketing_consent": "no"})


@tagged("post_install", "-at_install")
class TestProfileBonus(BonusCase):
    def test_complete_profile_gives_the_bonus_once_per_year(self):
        with freeze_time("2026-06-30"):
            self.customer.with_user(self.salesman).write(
                {"retention_birthday": date(1980, 7, 2), "retention_marketing_consent": "yes"}
            )
            self.assertFalse(self.customer.retention_profile_complete)
            self.assertFalse(bonus_entries(self.env, self.customer, "profile"))
            self.customer.with_user(self.salesman).write(
                {"retention_preference_ids": [(4, self.interest.id)]}
            )
            self.assertTrue(self.customer.retention_profile_complete)
            [entry] = bonus_entries(self.env, self.customer, "profile")
            self.assertEqual(
                (entry.kind, entry.points, entry.bonus_period, entry.date),
                ("bonus", 50.0, "2026", date(2026, 6, 30)),
            )
            self.assertEqual(self._card().points, 50.0)
            self.assertEqual(self._card().history_ids.mapped("issued"), [50.0])
            # Saving the profile again or the nightly run give nothing more.
            self.customer.write({"retention_marketing_consent": "no"})
            self.assertEqual(self._cron(), (0, 0))
            self.assertEqual(len(bonus_entries(self.env, self.customer, "profile")), 1)
        with freeze_time("2027-01-01"):
            # A new year: the nightly run gives the profile bonus again, once.
            self.assertEqual(self._cron(), (1, 0))
            self.assertEqual(self._cron(), (0, 0))
            self.customer.write({"retention_marketing_consent": "yes"})
        self.assertEqual(
            bonus_entries(self.env, self.customer, "profile").mapped("bonus_period"),
            ["2026", "2027"],
        )
        self.assertEqual(self._card().points, 100.0)

    def test_monthly_period_and_incomplete_profiles(self):
        self.program.retention_bonus_period = "month"
        with freeze_time("2026-06-30"):
            self._complete_profile()
            # Removing the only interest makes the profile incomplete: no bonus next month.
            other = self.env["res.partner"].create(
                {
                    "name": "Half Profile",
                    "retention_birthday": date(1990, 1, 1),
                    "retention_marketing_consent": "yes",
                }
            )
            self.assertFalse(other.retention_profile_complete)
        with freeze_time("2026-07-01"):
            self.assertEqual(self._cron(), (1, 0))
        self.assertEqual(
            bonus_entries(self.env, self.customer, "profile").mapped("bonus_period"),
            ["2026-06", "2026-07"],
        )
        self.assertFalse(bonus_entries(self.env, other, "profile"))

    def test_programs_without_the_bonus_or_of_another_company_give_nothing(self):
        other_company = self.env["res.company"].create({"name": "Other Bonus Company"})
        foreign = make_bonus_program(self.env, "Foreign Club", profile=30)
        foreign.company_id = other_company
        off = make_bonus_program(self.env, "No Bonus Club", profile=0, birthday=5)
        self.customer.company_id = self.env.company
        with freeze_time("2026-06-30"):
            self._complete_profile()
        self.assertEqual(len(bonus_entries(self.env, self.customer, "profile")), 1)
        self.assertFalse(bonus_entries(self.env, self.customer, "profile", foreign))
        self.assertFalse(bonus_entries(self.env, self.customer, "profile", off))

    def test_a_company_gets_no_profile_bonus(self):
        company = self.env["res.partner"].create({"name": "Bonus Inc.", "is_company": True})
        with freeze_time("2026-06-30"):
            self._complete_profile(company)
            self.assertEqual(self._cron(), (0, 0))
        self.assertFalse(bonus_entries(self.env, company, "profile"))


@tagged("post_install", "-at_install")
class TestBirthdayBonus(BonusCase):
    def test_birthday_once_per_year_with_catch_up(self):
        self.customer.retention_birthday = date(1980, 7, 2)
        with freeze_time("2026-07-01"):
            self.assertEqual(self._cron(), (0, 0))
        with freeze_time("2026-07-02"):
            self.assertEqual(self._cron(), (1, 0))
            # A second run the same day gives nothing.
            self.assertEqual(self._cron(), (0, 0))
        with freeze_time("2026-07-05"):
            self.assertEqual(self._cron(), (0, 0))
        # The cron was down on the 2nd in 2027: caught up the next day, for 2027.
        with freeze_time("2027-07-03"):
            self.assertEqual(self._cron(), (1, 0))
        # A week late is too late.
        with freeze_time("2028-07-09"):
            self.assertEqual(self._cron(), (0, 0))
        entries = bonus_entries(self.env, self.customer, "birthday")
        self.assertEqual(
            [(entry.points, entry.bonus_period, entry.date) for entry in entries],
            [(20.0, "2026", date(2026, 7, 2)), (20.0, "2027", date(2027, 7, 3))],
        )
        self.assertEqual(self._card().points, 40.0)

    def test_birthday_in_batches_and_leap_day(self):
        leap = self.env["res.partner"].create(
            {"name": "Leap Baby", "retention_birthday": date(1988, 2, 29)}
        )
        twin = self.env["res.partner"].create(
            {"name": "Leap Twin", "retention_birthday": date(1988, 2, 29)}
        )
        with freeze_time("2027-02-28"):
            self.assertEqual(self._cron(batch_size=1), (1, 1))
            self.assertEqual(self._cron(batch_size=1), (1, 0))
            self.assertEqual(self._cron(batch_size=1), (0, 0))
        for partner in leap | twin:
            [entry] = bonus_entries(self.env, partner, "birthday")
            self.assertEqual((entry.bonus_period, entry.points), ("2027", 20.0))

    def test_a_members_only_program_pays_its_members_only(self):
        club = self.env["retention.club"].create({"name": "Bonus Tasting Club", "policy": "free"})
        members_only = make_bonus_program(self.env, "Members Club", birthday=70)
        members_only.retention_club_ids = club
        member = self.env["res.partner"].create(
            {"name": "Member", "retention_birthday": date(1980, 7, 2)}
        )
        self.customer.retention_birthday = date(1980, 7, 2)
        with freeze_time("2026-07-02"):
            self.env["retention.club.membership"].create(
                {"partner_id": member.id, "club_id": club.id, "origin": "enrolment"}
            )
            # Both get the open program's bonus, only the member the club's.
            self.assertEqual(self._cron(), (2, 0))
            self.assertEqual(self._cron(), (0, 0))
        self.assertEqual(len(bonus_entries(self.env, member, "birthday", members_only)), 1)
        self.assertFalse(bonus_entries(self.env, self.customer, "birthday", members_only))
        self.assertEqual(len(bonus_entries(self.env, self.customer, "birthday", self.program)), 1)

    def test_month_period_keeps_the_birthday_in_its_month(self):
        """Caught up in July, a 30 June birthday still belongs to June: with
        a monthly period the July run does not give it again."""
        self.program.retention_bonus_period = "month"
        self.customer.retention_birthday = date(1980, 6, 30)
        with freeze_time("2026-06-30"):
            self.assertEqual(self._cron(), (1, 0))
        with freeze_time("2026-07-02"):
            self.assertEqual(self._cron(), (0, 0))
        self.assertEqual(
            bonus_entries(self.env, self.customer, "birthday").mapped("bonus_period"),
            ["2026-06"],
        )


@tagged("post_install", "-at_install")
class TestBonusAccess(BonusCase):
    def test_salesperson_cannot_configure_or_grant(self):
        program = self.program.with_user(self.salesman)
        with self.assertRaises(AccessError):
            program.write({"retention_bonus_profile_points": 1000})
        with self.assertRaises(AccessError):
            program.read(["retention_bonus_birthday_points"])
        fields = program.get_views([(False, "form")])["models"]["loyalty.program"]["fields"]
        self.assertNotIn("retention_bonus_profile_points", fields)
        self.assertEqual(self.program.retention_bonus_profile_points, 50.0)
        # Nor give points by hand, even with a hostile context.
        with freeze_time("2026-06-30"):
            self._complete_profile()
        card = (
            self._card()
            .with_user(self.salesman)
            .with_context(retention_points_origin="confirm", ledger_posting=True)
        )
        with self.assertRaises(UserError):
            card.write({"points": 5000})
        self.assertEqual(self._card().points, 50.0)

    def test_bonus_points_cannot_be_negative(self):
        with self.assertRaises(ValidationError):
            self.program.retention_bonus_birthday_points = -5


@tagged("post_install", "-at_install")
class TestProfileBonusRace(BonusRaceMixin, TransactionCase):
    bonus_source = "profile"


@tagged("post_install", "-at_install")
class TestBirthdayBonusRace(BonusRaceMixin, TransactionCase):
    bonus_source = "birthday"
