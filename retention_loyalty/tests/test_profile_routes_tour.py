import re
import unittest
from datetime import date

from lxml import html

from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .bonus_common import bonus_entries, make_bonus_program
from .common import make_product

CSRF_TOKEN = re.compile(r'csrf_token(?:"\s+value=|:\s*)"([^"]+)"')


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestProfileRoutes(HttpCase):
    """My profile over HTTP: the customer's portal user saves their own
    profile; refusals are shown on the page, another partner is never
    touched."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = make_bonus_program(cls.env, "Route Profile Club", profile=50)
        cls.beans = cls.env["product.category"].create({"name": "Route beans"})
        make_product(cls.env, "Route espresso", 12.0).categ_id = cls.beans
        cls.company = cls.env["res.partner"].create({"name": "Route Roasters", "is_company": True})
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Route Profile Buyer", "parent_id": cls.company.id}
        )
        cls.buyer_user = new_test_user(
            cls.env,
            login="rl_profile_route_buyer",
            groups="base.group_portal",
            partner_id=cls.buyer.id,
        )
        # A company given a portal user of its own: no birthday, no profile.
        cls.company_user = new_test_user(
            cls.env,
            login="rl_profile_route_company",
            groups="base.group_portal",
            partner_id=cls.company.id,
        )
        cls.stranger = cls.env["res.partner"].create({"name": "Route Profile Stranger"})
        cls.salesman = new_test_user(
            cls.env,
            login="rl_profile_route_salesman",
            groups="sales_team.group_sale_salesman,base.group_partner_manager",
        )

    def _login(self, user):
        self.authenticate(user.login, user.login)
        page = self.url_open("/my", allow_redirects=False)
        self.assertEqual(page.status_code, 200)
        self.csrf_token = CSRF_TOKEN.search(page.text).group(1)
        return page

    def _post(self, csrf=True, **data):
        if csrf:
            data["csrf_token"] = self.csrf_token
        self.env.flush_all()
        response = self.url_open("/my/profile/save", data=data, allow_redirects=False)
        self.env.invalidate_all()
        return response

    def _texts(self, page, css_class):
        return [
            " ".join(node.text_content().split())
            for node in html.fromstring(page.text).xpath(
                f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {css_class} ')]"
            )
        ]

    def _profile(self, partner):
        return (
            partner.retention_birthday,
            partner.retention_preference_ids,
            partner.retention_marketing_consent,
        )

    def test_save_the_profile_and_earn_the_bonus(self):
        home = self._login(self.buyer_user)
        self.assertIn('href="/my/profile"', home.text)
        page = self.url_open("/my/profile")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(len(self._texts(page, "o_retention_profile_incomplete")), 1)
        self.assertIn(f'value="{self.beans.id}"', page.text)

        with mute_logger("odoo.http"):
            no_csrf = self._post(csrf=False, birthday="1985-04-12", marketing_consent="yes")
        self.assertEqual(no_csrf.status_code, 400)
        self.assertFalse(self.buyer.retention_birthday)

        # Another partner's id in the form changes nothing but the user's own contact.
        saved = self._post(
            birthday="1985-04-12",
            preference_ids=str(self.beans.id),
            marketing_consent="yes",
            partner_id=str(self.stranger.id),
            id=str(self.stranger.id),
        )
        self.assertEqual(saved.status_code, 303)
        self.assertTrue(saved.headers["Location"].endswith("/my/profile"))
        self.assertEqual(self._profile(self.buyer), (date(1985, 4, 12), self.beans, "yes"))
        self.assertEqual(self._profile(self.stranger), (False, self.env["product.category"], False))
        self.assertEqual(bonus_entries(self.env, self.buyer, "profile").mapped("points"), [50.0])
        self.assertFalse(bonus_entries(self.env, self.stranger, "profile"))
        self.assertFalse(bonus_entries(self.env, self.company, "profile"))

        page = self.url_open("/my/profile")
        self.assertEqual(
            self._texts(page, "o_retention_profile_success"),
            ["You earned 50 points for completing your profile"],
        )
        self.assertEqual(len(self._texts(page, "o_retention_profile_complete")), 1)
        # The message is shown once.
        page = self.url_open("/my/profile")
        self.assertFalse(self._texts(page, "o_retention_profile_success"))

        # Saving again in the same year: saved, no second bonus.
        self._post(birthday="1985-04-12", preference_ids=str(self.beans.id), marketing_consent="no")
        page = self.url_open("/my/profile")
        self.assertEqual(
            self._texts(page, "o_retention_profile_success"), ["Your profile is saved."]
        )
        self.assertEqual(len(bonus_entries(self.env, self.buyer, "profile")), 1)

    def test_refusals_are_shown_on_the_page(self):
        self._login(self.buyer_user)
        for data, message in (
            (
                {"birthday": "2999-01-01", "marketing_consent": "yes"},
                "Your birthday cannot be in the future.",
            ),
            (
                {"birthday": "1985-04-12", "preference_ids": "999999999"},
                "Choose your interests from the list.",
            ),
            (
                {"birthday": "1985-04-12", "marketing_consent": "<b>maybe</b>"},
                "Answer the marketing question with yes or no.",
            ),
        ):
            with self.subTest(data=data):
                refused = self._post(**data)
                self.assertEqual(refused.status_code, 303)
                # The message travels in the session, not the link.
                self.assertTrue(refused.headers["Location"].endswith("/my/profile"))
                page = self.url_open("/my/profile")
                self.assertEqual(self._texts(page, "o_retention_profile_error"), [message])
                self.assertEqual(
                    self._profile(self.buyer), (False, self.env["product.category"], False)
                )
        self.assertFalse(bonus_entries(self.env, self.buyer, "profile"))

    def test_a_salesperson_saves_only_their_own_contact(self):
        self._login(self.salesman)
        self._post(
            birthday="1979-01-30",
            preference_ids=str(self.beans.id),
            marketing_consent="no",
            partner_id=str(self.buyer.id),
        )
        self.assertEqual(self._profile(self.buyer), (False, self.env["product.category"], False))
        self.assertFalse(bonus_entries(self.env, self.buyer, "profile"))
        self.assertEqual(self.salesman.partner_id.retention_birthday, date(1979, 1, 30))

    def test_a_company_contact_has_no_profile(self):
        """The portal user of a company sees no profile card nor link, and
        the page and its save do not exist for them: nothing is written and
        no bonus is given. A person sees both (the control)."""
        self._login(self.buyer_user)
        self.assertEqual(
            len(self._texts(self.url_open("/my/rewards"), "o_retention_profile_link")), 1
        )
        home = self._login(self.company_user)
        self.assertEqual(home.text.count('href="/my/profile"'), 0)
        self.assertIn('href="/my/account"', home.text)  # the rest of the home page is there
        rewards = self.url_open("/my/rewards")
        self.assertEqual(rewards.status_code, 200)
        self.assertFalse(self._texts(rewards, "o_retention_profile_link"))
        page = self.url_open("/my/profile", allow_redirects=False)
        self.assertEqual(page.status_code, 404)
        saved = self._post(
            birthday="1985-04-12", preference_ids=str(self.beans.id), marketing_consent="yes"
        )
        self.assertEqual(saved.status_code, 404)
        self.assertEqual(self._profile(self.company), (False, self.env["product.category"], False))
        self.assertFalse(bonus_entries(self.env, self.company, "profile"))
