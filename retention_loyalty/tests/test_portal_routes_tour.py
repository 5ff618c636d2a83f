import re
import unittest
from datetime import date
from urllib.parse import parse_qs, urlsplit

from odoo import Command
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged

from .common import make_product

CSRF_TOKEN = re.compile(r'csrf_token(?:"\s+value=|:\s*)"([^"]+)"')


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestSubscriptionPortalRoutes(HttpCase):
    """The four portal routes over HTTP, as the customer's portal user would
    use them: their own subscriptions, another customer's (refused, even with
    the link), a draft (refused), and pausing or closing with and without
    the company's permission."""

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
        subscription.invalidate_recordset()
        return parse_qs(location.query).get("message", [None])[0]

    def _events(self, subscription):
        return subscription.event_ids.sorted("id").mapped("kind")

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
