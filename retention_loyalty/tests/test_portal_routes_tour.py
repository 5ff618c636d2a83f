import re
import unittest
from datetime import date, timedelta
from urllib.parse import urlsplit

from babel.dates import format_date as babel_format_date
from lxml import html

from odoo import Command
from odoo.http import root
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..controllers.portal import SUBSCRIPTION_MESSAGE_KEY
from .common import make_points_program, make_product

CSRF_TOKEN = re.compile(r'csrf_token(?:"\s+value=|:\s*)"([^"]+)"')


class SubscriptionPortalCase(HttpCase):
    """A customer with a portal user and a running subscription, a stranger,
    and the portal routes' helpers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.partner_id.tz = "UTC"
        cls.owner_partner, cls.other_partner = cls.env["res.partner"].create(
            [{"name": "Portal Owner"}, {"name": "Portal Stranger"}]
        )
        cls.owner = new_test_user(
            cls.env,
            login="rl_portal_owner",
            groups="base.group_portal",
            partner_id=cls.owner_partner.id,
        )
        cls.stranger = new_test_user(
            cls.env,
            login="rl_portal_stranger",
            groups="base.group_portal",
            partner_id=cls.other_partner.id,
        )
        cls.coffee = make_product(cls.env, "Portal route coffee", 20.0)
        cls.price_reason = cls.env.ref("retention_loyalty.subscription_close_reason_price")
        cls.term_ended = cls.env.ref("retention_loyalty.subscription_close_reason_term_ended")

    def setUp(self):
        super().setUp()
        self.subscription = self._subscription(self.owner_partner)

    def _subscription(self, partner, activate=True):
        subscription = self.env["retention.subscription"].create(
            {
                "partner_id": partner.id,
                "date_start": date(2026, 1, 1),
                "line_ids": [Command.create({"product_id": self.coffee.id, "price_unit": 20.0})],
            }
        )
        if activate:
            subscription.action_activate()
        return subscription

    def _allow_portal_changes(self, allowed):
        self.company.retention_subscription_portal_manage = allowed

    def _login(self, user):
        self.authenticate(user.login, user.login)
        page = self.url_open("/my", allow_redirects=False)
        self.assertEqual(page.status_code, 200)
        self.csrf_token = CSRF_TOKEN.search(page.text).group(1)

    def _post(self, subscription, what, **data):
        response = self.url_open(
            f"/my/subscriptions/{subscription.id}/{what}",
            data={"csrf_token": self.csrf_token, **data},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303, response.text[:500])
        location = urlsplit(response.headers["Location"])
        self.assertEqual(location.path, f"/my/subscriptions/{subscription.id}")
        self.assertNotIn("message", location.query, "the reason of a refusal is not in the link")
        subscription.invalidate_recordset()
        return self._refusal(subscription, location)

    def _refusal(self, subscription, location):
        """Why the change was refused (None when it was not): kept in the
        session, shown once by the page it leads back to when the user may
        see that page."""
        stored = root.session_store.get(self.session.sid).get(SUBSCRIPTION_MESSAGE_KEY) or {}
        text = stored.get("text") if stored.get("id") == subscription.id else None
        response = self.url_open(location.geturl(), allow_redirects=False)
        if response.status_code == 200:
            alerts = self._texts(html.fromstring(response.text), "//p[hasclass('alert-danger')]")
            self.assertEqual(alerts, [text] if text else [], "the page shows it")
        self.assertFalse(
            root.session_store.get(self.session.sid).get(SUBSCRIPTION_MESSAGE_KEY), "once"
        )
        return text

    def _events(self, subscription):
        return subscription.event_ids.sorted("id").mapped("kind")

    def _page(self, url):
        response = self.url_open(url, allow_redirects=False)
        self.assertEqual(response.status_code, 200, url)
        return html.fromstring(response.text)

    def _texts(self, tree, xpath):
        return [" ".join(element.text_content().split()) for element in tree.xpath(xpath)]


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestSubscriptionPortalRoutes(SubscriptionPortalCase):
    """The four portal routes over HTTP, as the customer's portal user would
    use them: their own subscriptions, another customer's (refused, even with
    the link), a draft (refused), and pausing or closing with and without
    the company's permission."""

    def test_owner_lists_and_opens_their_subscriptions(self):
        others = self._subscription(self.other_partner)
        draft = self._subscription(self.owner_partner, activate=False)
        draft._portal_ensure_token()
        self._login(self.owner)
        listing = self.url_open("/my/subscriptions", allow_redirects=False)
        self.assertEqual(listing.status_code, 200)
        self.assertIn(self.subscription.name, listing.text)
        self.assertNotIn(others.name, listing.text)
        self.assertNotIn(draft.name, listing.text)
        home = self.url_open("/my/home", allow_redirects=False)
        self.assertEqual(home.status_code, 200)
        page = self.url_open(f"/my/subscriptions/{self.subscription.id}", allow_redirects=False)
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.subscription.name, page.text)
        for url in (
            f"/my/subscriptions/{others.id}",
            f"/my/subscriptions/{draft.id}",
            f"/my/subscriptions/{draft.id}?access_token={draft.access_token}",
        ):
            with self.subTest(url=url):
                response = self.url_open(url, allow_redirects=False)
                self.assertEqual(response.status_code, 303)
                self.assertEqual(urlsplit(response.headers["Location"]).path, "/my")
                self.assertNotIn(draft.name, response.text)

    def test_owner_pauses_then_closes_when_the_company_allows_it(self):
        self._allow_portal_changes(True)
        self._login(self.owner)
        page = self.url_open(f"/my/subscriptions/{self.subscription.id}", allow_redirects=False)
        self.assertIn(f"/my/subscriptions/{self.subscription.id}/pause", page.text)
        self.assertIn(self.price_reason.name, page.text)
        self.assertNotIn(self.term_ended.name, page.text, "an internal reason is not offered")
        self.assertIsNone(self._post(self.subscription, "pause"))
        self.assertEqual(self.subscription.state, "paused")
        self.assertEqual(self._events(self.subscription), ["start", "pause"])
        posted = self.subscription.message_ids.filtered(
            lambda message: "Paused by the customer in the portal." in message.body
        )
        self.assertEqual(posted.author_id, self.owner_partner)
        message = self._post(
            self.subscription, "close", reason_id=self.price_reason.id, note="Moving abroad"
        )
        self.assertIsNone(message)
        self.assertEqual(self.subscription.state, "closed")
        self.assertEqual(self.subscription.close_reason_id, self.price_reason)
        self.assertEqual(self.subscription.close_note, "Moving abroad")
        self.assertEqual(self._events(self.subscription), ["start", "pause", "close"])

    def test_owner_cannot_close_for_a_reason_the_portal_does_not_offer(self):
        self._allow_portal_changes(True)
        self._login(self.owner)
        for reason_id in (self.term_ended.id, "", "not-a-number"):
            with self.subTest(reason_id=reason_id):
                message = self._post(self.subscription, "close", reason_id=reason_id)
                self.assertTrue(message)
                self.assertEqual(self.subscription.state, "active")
                self.assertFalse(self.subscription.close_reason_id)
        self.assertEqual(self._events(self.subscription), ["start"])

    def test_owner_is_refused_when_the_company_does_not_allow_changes(self):
        self._allow_portal_changes(False)
        self._login(self.owner)
        page = self.url_open(f"/my/subscriptions/{self.subscription.id}", allow_redirects=False)
        self.assertEqual(page.status_code, 200)
        self.assertNotIn(f"/my/subscriptions/{self.subscription.id}/pause", page.text)
        self.assertEqual(
            self._post(self.subscription, "pause"), "Contact us to change your subscription."
        )
        self.assertEqual(
            self._post(self.subscription, "close", reason_id=self.price_reason.id),
            "Contact us to change your subscription.",
        )
        self.assertEqual(self.subscription.state, "active")
        self.assertEqual(self._events(self.subscription), ["start"])

    def test_another_customer_cannot_change_it_even_with_the_link(self):
        self._allow_portal_changes(True)
        self.subscription._portal_ensure_token()
        token = self.subscription.access_token
        self._login(self.stranger)
        shared = self.url_open(
            f"/my/subscriptions/{self.subscription.id}?access_token={token}",
            allow_redirects=False,
        )
        self.assertEqual(shared.status_code, 200, "the link shows the subscription")
        self.assertIn(self.subscription.name, shared.text)
        for access_token in (None, token):
            extra = {"access_token": access_token} if access_token else {}
            with self.subTest(access_token=access_token):
                self.assertTrue(self._post(self.subscription, "pause", **extra))
                self.assertTrue(
                    self._post(self.subscription, "close", reason_id=self.price_reason.id, **extra)
                )
        self.assertEqual(
            self._post(self.subscription, "pause", access_token=token),
            "Only the customer can change the subscription.",
        )
        self.assertEqual(self.subscription.state, "active")
        self.assertEqual(self._events(self.subscription), ["start"])

    def test_a_draft_cannot_be_paused_or_closed(self):
        self._allow_portal_changes(True)
        draft = self._subscription(self.owner_partner, activate=False)
        draft._portal_ensure_token()
        self._login(self.owner)
        # Without the link the portal's record rule refuses it; with the link
        # the controller does: drafts are the company's work in progress.
        for extra in ({}, {"access_token": draft.access_token}):
            with self.subTest(**extra):
                self.assertTrue(self._post(draft, "pause", **extra))
                self.assertTrue(self._post(draft, "close", reason_id=self.price_reason.id, **extra))
        self.assertEqual(
            self._post(draft, "pause", access_token=draft.access_token),
            "This subscription does not exist.",
        )
        self.assertEqual(draft.state, "draft")
        self.assertFalse(draft.event_ids)

    def test_pausing_twice_says_why_and_changes_nothing(self):
        self._allow_portal_changes(True)
        self._login(self.owner)
        self.assertIsNone(self._post(self.subscription, "pause"))
        self.assertEqual(
            self._post(self.subscription, "pause"), "Only active subscriptions can be paused."
        )
        self.assertEqual(self._events(self.subscription), ["start", "pause"])

    def test_a_get_cannot_pause(self):
        self._allow_portal_changes(True)
        self._login(self.owner)
        response = self.url_open(
            f"/my/subscriptions/{self.subscription.id}/pause", allow_redirects=False
        )
        self.assertEqual(response.status_code, 405)
        self.subscription.invalidate_recordset()
        self.assertEqual(self.subscription.state, "active")

    # ------------------------------------------------------------------ pause until, resume

    def test_owner_pauses_until_a_date_and_resumes_by_hand(self):
        self._allow_portal_changes(True)
        today = self.subscription._today()
        resume_on = today + timedelta(days=40)
        self._login(self.owner)
        self.assertIsNone(self._post(self.subscription, "pause", resume_date=resume_on.isoformat()))
        self.assertRecordValues(self.subscription, [{"state": "paused", "resume_date": resume_on}])
        posted = self.subscription.message_ids.filtered(
            lambda message: "Paused by the customer in the portal" in message.body
        )
        self.assertEqual(posted.author_id, self.owner_partner)
        page = self._page(f"/my/subscriptions/{self.subscription.id}")
        actions = page.xpath("//form[input[@name='csrf_token']]/@action")
        self.assertEqual(
            [
                action
                for action in actions
                if action.rsplit("/", 1)[1] in ("pause", "resume", "close")
            ],
            [
                f"/my/subscriptions/{self.subscription.id}/resume",
                f"/my/subscriptions/{self.subscription.id}/close",
            ],
            "a paused subscription offers Resume (and Close), not Pause",
        )
        self.assertIn(
            f"Paused until {babel_format_date(resume_on, 'd MMM y', locale='en_US')}",
            self._texts(page, "//*[hasclass('o_retention_subscription_status')]")[0],
        )
        self.assertIsNone(self._post(self.subscription, "resume"))
        self.assertRecordValues(self.subscription, [{"state": "active", "resume_date": False}])
        self.assertEqual(self._events(self.subscription), ["start", "pause", "resume"])
        resumed = self.subscription.message_ids.filtered(
            lambda message: "Resumed by the customer in the portal." in message.body
        )
        self.assertEqual(resumed.author_id, self.owner_partner)

    def test_a_past_or_malformed_resume_date_is_refused_and_nothing_changes(self):
        self._allow_portal_changes(True)
        today = self.subscription._today()
        self._login(self.owner)
        for resume_date, expected in (
            (
                (today - timedelta(days=1)).isoformat(),
                f"Choose a resume date after today ({today.strftime('%m/%d/%Y')}).",
            ),
            (
                today.isoformat(),
                f"Choose a resume date after today ({today.strftime('%m/%d/%Y')}).",
            ),
            ("31/12/2099", "The resume date is not a valid date."),
        ):
            with self.subTest(resume_date=resume_date):
                self.assertEqual(
                    self._post(self.subscription, "pause", resume_date=resume_date), expected
                )
                self.assertRecordValues(
                    self.subscription, [{"state": "active", "resume_date": False}]
                )
        self.assertEqual(self._events(self.subscription), ["start"])

    def test_resume_is_refused_to_others_without_permission_and_when_not_paused(self):
        self._allow_portal_changes(True)
        self._login(self.owner)
        self.assertEqual(
            self._post(self.subscription, "resume"), "Only paused subscriptions can be resumed."
        )
        self.subscription.action_pause()
        self.subscription._portal_ensure_token()
        token = self.subscription.access_token
        self._login(self.stranger)
        self.assertEqual(
            self._post(self.subscription, "resume", access_token=token),
            "Only the customer can change the subscription.",
        )
        self.assertTrue(self._post(self.subscription, "resume"), "not even seen without the link")
        self._allow_portal_changes(False)
        self._login(self.owner)
        self.assertEqual(
            self._post(self.subscription, "resume"), "Contact us to change your subscription."
        )
        self.assertEqual(self.subscription.state, "paused")
        self.assertEqual(self._events(self.subscription), ["start", "pause"])

    def test_resume_needs_a_post_with_the_csrf_token(self):
        self._allow_portal_changes(True)
        self.subscription.action_pause()
        self._login(self.owner)
        url = f"/my/subscriptions/{self.subscription.id}/resume"
        self.assertEqual(self.url_open(url, allow_redirects=False).status_code, 405)
        with mute_logger("odoo.http"):
            forged = self.url_open(url, data={"csrf_token": "forged"}, allow_redirects=False)
        self.assertEqual(forged.status_code, 400)
        self.subscription.invalidate_recordset()
        self.assertEqual(self.subscription.state, "paused")

    def test_closing_without_a_reason_is_refused(self):
        self._allow_portal_changes(True)
        self._login(self.owner)
        for data in ({}, {"reason_id": ""}, {"note": "No reason given"}):
            with self.subTest(**data):
                self.assertEqual(
                    self._post(self.subscription, "close", **data),
                    "Choose why the subscription closes.",
                )
        self.assertEqual(self.subscription.state, "active")
        self.assertEqual(self._events(self.subscription), ["start"])

    # ------------------------------------------------------------------ what the customer reads

    def test_pause_and_close_wait_for_a_confirmation_and_no_reason_is_chosen_for_them(self):
        self._allow_portal_changes(True)
        self._login(self.owner)
        page = self._page(f"/my/subscriptions/{self.subscription.id}")
        pause_form = page.xpath(f"//form[@action='/my/subscriptions/{self.subscription.id}/pause']")
        close_form = page.xpath(f"//form[@action='/my/subscriptions/{self.subscription.id}/close']")
        self.assertEqual(len(pause_form), 1)
        self.assertEqual(len(close_form), 1)
        for form in (pause_form[0], close_form[0]):
            modal = form.xpath("ancestor::div[hasclass('modal')]")
            self.assertTrue(modal, "the form waits in a confirmation dialog")
            self.assertEqual(
                page.xpath(f"//button[@data-bs-target='#{modal[0].get('id')}']/@data-bs-toggle"),
                ["modal"],
                "one button opens it",
            )
        self.assertEqual(pause_form[0].xpath(".//input[@name='resume_date']/@type"), ["date"])
        self.assertFalse(pause_form[0].xpath(".//input[@name='resume_date']/@required"))
        options = close_form[0].xpath(".//select[@name='reason_id']/option")
        self.assertEqual(options[0].get("value"), "", "the first option only asks for a reason")
        self.assertEqual(
            [option.get("value") for option in options if option.get("selected") is not None],
            [""],
        )
        self.assertTrue(close_form[0].xpath(".//select[@name='reason_id']/@required"))

    def test_the_pages_speak_the_customers_language(self):
        self.coffee.default_code = "RL-COFFEE_0"
        beans = make_product(self.env, "Loose beans", 9.0)
        beans.write({"uom_id": self.env.ref("uom.product_uom_kgm").id, "default_code": "RL-BEANS"})
        beans.uom_po_id = beans.uom_id
        two_monthly = self.env["retention.subscription"].create(
            {
                "partner_id": self.owner_partner.id,
                "date_start": date(2026, 1, 1),
                "interval": 2,
                "line_ids": [
                    Command.create({"product_id": self.coffee.id, "quantity": 1.0}),
                    Command.create({"product_id": beans.id, "quantity": 2.5}),
                ],
            }
        )
        two_monthly.action_activate()
        self._login(self.owner)
        listing = self._page("/my/subscriptions")
        every = dict(
            zip(
                self._texts(listing, "//tbody/tr/td[1]"),
                self._texts(listing, "//tbody/tr/td[2]"),
                strict=True,
            )
        )
        self.assertEqual(
            every, {self.subscription.name: "Every month", two_monthly.name: "Every 2 months"}
        )
        self.assertEqual(
            self._texts(listing, "//ol[hasclass('o_portal_submenu')]/li"), ["", "Subscriptions"]
        )
        page = self._page(f"/my/subscriptions/{two_monthly.id}")
        self.assertEqual(
            self._texts(page, "//ol[hasclass('o_portal_submenu')]/li"),
            ["", "Subscriptions", two_monthly.name],
        )
        self.assertEqual(
            page.xpath("//ol[hasclass('o_portal_submenu')]/li[2]/a/@href"), ["/my/subscriptions"]
        )
        self.assertIn(
            "Every 2 months", self._texts(page, "//*[hasclass('o_retention_recurrence')]")
        )
        lines = page.xpath("//table[hasclass('o_retention_subscription_lines')]/tbody/tr")
        # Quantities the customer may change: a number field and the unit.
        self.assertEqual(
            [(self._texts(line, "td"), line.xpath(".//input/@value")) for line in lines],
            [(["Portal route coffee", ""], ["1"]), (["Loose beans", "kg"], ["2.5"])],
        )
        self.assertNotIn("RL-COFFEE_0", page.text_content())
        self.company.retention_portal_change_quantity = False
        page = self._page(f"/my/subscriptions/{two_monthly.id}")
        lines = page.xpath("//table[hasclass('o_retention_subscription_lines')]/tbody/tr")
        self.assertEqual(
            [self._texts(line, "td") for line in lines],
            [["Portal route coffee", "1"], ["Loose beans", "2.5 kg"]],
        )

    def test_a_crafted_link_puts_no_words_on_the_page(self):
        self._login(self.owner)
        page = self._page(
            f"/my/subscriptions/{self.subscription.id}?message=Call+0900+to+keep+your+account"
        )
        self.assertFalse(page.xpath("//p[hasclass('alert-danger')]"))
        self.assertNotIn("0900", page.text_content())

    def test_the_home_tile_uses_a_portal_pictogram(self):
        self._login(self.owner)
        home = self._page("/my/home")
        icons = home.xpath(
            "//a[@href='/my/subscriptions']//div[hasclass('o_portal_icon')]/img/@src"
        )
        self.assertEqual(icons, ["/retention_loyalty/static/src/img/subscriptions.svg"])
        icon = self.url_open(icons[0])
        self.assertEqual(icon.status_code, 200)
        self.assertIn("<svg", icon.text)

    def test_expiring_points_read_as_a_sentence_in_readable_colours(self):
        program = make_points_program(
            self.env,
            "Portal points",
            retention_expiry_policy="earned",
            retention_expiry_months=12,
        )
        card = self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": self.owner_partner.id, "points": 58.0}
        )
        expiry = card.retention_next_expiry_date
        self.assertTrue(expiry)
        self._login(self.owner)
        home = self._page("/my/home")
        # The side panel is rendered twice: beside the page and in the mobile drawer.
        notes = home.xpath("//*[hasclass('o_retention_points_expiry')]")
        self.assertEqual(
            set(self._texts(home, "//*[hasclass('o_retention_points_expiry')]")),
            {f"58 points expire on {babel_format_date(expiry, 'd MMM y', locale='en_US')}"},
        )
        self.assertNotIn("text-warning", notes[0].get("class").split())
