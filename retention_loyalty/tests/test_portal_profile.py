from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .bonus_common import bonus_entries, make_bonus_program
from .common import make_product


@tagged("post_install", "-at_install")
class TestPortalProfile(TransactionCase):
    """The profile page's model: the signed-in customer saves their own
    birthday, interests and marketing consent, and the profile bonus comes
    through the ledger once per period."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.program = make_bonus_program(cls.env, "Profile Club", profile=50)
        cls.beans = cls.env["product.category"].create({"name": "Profile beans"})
        cls.tea = cls.env["product.category"].create({"name": "Profile tea"})
        # Only categories of products on sale are offered.
        cls.hidden = cls.env["product.category"].create({"name": "Profile internal"})
        make_product(cls.env, "Profile espresso", 12.0).categ_id = cls.beans
        make_product(cls.env, "Profile sencha", 8.0).categ_id = cls.tea
        hidden_product = make_product(cls.env, "Profile spare part", 1.0)
        hidden_product.write({"categ_id": cls.hidden.id, "sale_ok": False})
        cls.company = cls.env["res.partner"].create(
            {"name": "Profile Roasters", "is_company": True}
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Profile Buyer", "parent_id": cls.company.id}
        )
        cls.user = new_test_user(
            cls.env,
            login="rl_profile_buyer",
            groups="base.group_portal",
            partner_id=cls.contact.id,
        )
        cls.other = cls.env["res.partner"].create({"name": "Profile Other"})
        cls.salesman = new_test_user(
            cls.env,
            login="rl_profile_salesman",
            groups="sales_team.group_sale_salesman,base.group_partner_manager",
        )

    def _save(self, birthday="1985-04-12", preferences=None, consent="yes", user=None, **context):
        Profile = self.env["retention.portal.profile"].with_user(user or self.user)
        if preferences is None:
            preferences = [str(self.beans.id)]
        return Profile.with_context(**context)._save(birthday, preferences, consent)

    def _profile(self, partner=None):
        partner = partner or self.contact
        partner.invalidate_recordset()
        return (
            partner.retention_birthday,
            partner.retention_preference_ids,
            partner.retention_marketing_consent,
        )

    def test_complete_profile_earns_the_bonus_once_per_period(self):
        with freeze_time("2026-06-10"):
            choices = (
                self.env["retention.portal.profile"].with_user(self.user)._preference_choices()
            )
            self.assertIn(self.beans, choices)
            self.assertIn(self.tea, choices)
            self.assertNotIn(self.hidden, choices)
            # Birthday and consent, no interest yet: incomplete, no bonus.
            self.assertEqual(self._save(preferences=[]), 0)
            self.assertEqual(
                self._profile(), (date(1985, 4, 12), self.env["product.category"], "yes")
            )
            self.assertFalse(bonus_entries(self.env, self.contact, "profile"))

            self.assertEqual(self._save(preferences=[str(self.beans.id), str(self.tea.id)]), 50)
            self.assertEqual(self._profile(), (date(1985, 4, 12), self.beans | self.tea, "yes"))
            [entry] = bonus_entries(self.env, self.contact, "profile")
            self.assertEqual(
                (entry.points, entry.bonus_period, entry.program_id, entry.card_id.partner_id),
                (50.0, "2026", self.program, self.contact),
            )
            # Declining marketing still completes it; saving again gives nothing more.
            self.assertEqual(self._save(consent="no"), 0)
            self.assertEqual(len(bonus_entries(self.env, self.contact, "profile")), 1)
            self.assertEqual(
                self.env["retention.portal.profile"].with_user(self.user)._earned_message(50.0),
                "You earned 50 points for completing your profile",
            )
        with freeze_time("2027-02-01"):
            self.assertEqual(self._save(consent="no"), 50)
        self.assertEqual(
            bonus_entries(self.env, self.contact, "profile").mapped("bonus_period"),
            ["2026", "2027"],
        )

    def test_bad_input_is_refused_and_changes_nothing(self):
        with freeze_time("2026-06-10"):
            self._save(preferences=[])
            before = self._profile()
            for birthday, preferences, consent, message in (
                ("2026-06-11", None, "yes", "Your birthday cannot be in the future."),
                ("1899-12-31", None, "yes", "Enter a birthday after 1900."),
                ("2026-13-40", None, "yes", "The birthday is not a valid date."),
                ("12/04/1985", None, "yes", "The birthday is not a valid date."),
                (
                    "1985-04-12",
                    [str(self.hidden.id)],
                    "yes",
                    "Choose your interests from the list.",
                ),
                ("1985-04-12", ["999999999"], "yes", "Choose your interests from the list."),
                ("1985-04-12", ["1 OR 1=1"], "yes", "Choose your interests from the list."),
                ("1985-04-12", None, "maybe", "Answer the marketing question with yes or no."),
            ):
                with self.subTest(birthday=birthday, preferences=preferences, consent=consent):
                    with self.assertRaises(UserError) as refused:
                        self._save(birthday, preferences, consent)
                    self.assertEqual(refused.exception.args[0], message)
                    self.assertEqual(self._profile(), before)
            self.assertFalse(bonus_entries(self.env, self.contact, "profile"))
            # Today is a valid birthday.
            self.assertEqual(self._save("2026-06-10"), 50)

    def test_only_the_users_own_contact_whatever_the_context(self):
        """A salesperson (or a client's context) cannot aim the page at
        another partner: it saves the user's own contact only, and the
        bonus goes to that contact only."""
        hostile = {
            "active_id": self.other.id,
            "active_ids": [self.other.id],
            "active_model": "res.partner",
            "default_partner_id": self.other.id,
            "partner_id": self.other.id,
            "tz": "Pacific/Kiritimati",
        }
        with freeze_time("2026-06-10"):
            self.assertEqual(self._save(user=self.salesman, **hostile), 50)
            self.assertEqual(
                self._profile(self.other), (False, self.env["product.category"], False)
            )
            self.assertFalse(bonus_entries(self.env, self.other, "profile"))
            self.assertEqual(self._profile(self.salesman.partner_id)[0], date(1985, 4, 12))
            self.assertEqual(self._save(**hostile), 50)
            self.assertEqual(
                self._profile(self.other), (False, self.env["product.category"], False)
            )
            self.assertFalse(bonus_entries(self.env, self.other, "profile"))
            self.assertEqual(self._profile()[2], "yes")
            # The company of the contact is not touched either.
            self.assertFalse(self._profile(self.company)[0])

    def test_a_company_contact_has_no_profile(self):
        """A birthday makes no sense for a company: the page is not offered
        to a company's own portal user, and its save is refused, changing
        nothing and giving no bonus."""
        company_user = new_test_user(
            self.env,
            login="rl_profile_company",
            groups="base.group_portal",
            partner_id=self.company.id,
        )
        Profile = self.env["retention.portal.profile"]
        self.assertTrue(Profile.with_user(self.user)._available())
        self.assertFalse(Profile.with_user(company_user)._available())
        with freeze_time("2026-06-10"):
            with self.assertRaises(UserError) as refused:
                self._save(user=company_user)
            self.assertEqual(
                refused.exception.args[0], "A company has no profile to complete: it is for people."
            )
            self.assertEqual(
                self._profile(self.company), (False, self.env["product.category"], False)
            )
            self.assertFalse(bonus_entries(self.env, self.company, "profile"))
            # Its contact, a person, still completes theirs.
            self.assertEqual(self._save(), 50)
