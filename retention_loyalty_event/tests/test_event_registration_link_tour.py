import re
import unittest
from datetime import timedelta
from urllib.parse import urlsplit

from odoo import Command, fields
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged

CSRF_TOKEN = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
REGISTER_URL = re.compile(r'href="([^"]*/retention/event/\d+/register\?[^"]+)"')


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestEventRegistrationLink(HttpCase):
    """The invitation's registration link over HTTP: the signed link or the
    invited customer's portal login registers them, once; nobody else."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The HTTP server runs on the real clock: an event to come.
        begin = fields.Datetime.now().replace(microsecond=0) + timedelta(days=30)
        cls.event = cls.env["event.event"].create(
            {
                "name": "Roasting seminar",
                "date_begin": begin,
                "date_end": begin + timedelta(hours=8),
            }
        )
        cls.playbook = cls.env["retention.playbook"].create(
            {
                "name": "Seminar invitation",
                "trigger": "order_confirmed",
                "control_percent": 0,
                "action_ids": [Command.create({"kind": "event", "event_id": cls.event.id})],
            }
        )
        cls.guest, cls.other = cls.env["res.partner"].create(
            [
                {"name": "Invited Guest", "email": "guest@example.com"},
                {"name": "Not Invited", "email": "other@example.com"},
            ]
        )
        cls.guest_user = new_test_user(
            cls.env, login="rl_event_guest", groups="base.group_portal", partner_id=cls.guest.id
        )
        cls.other_user = new_test_user(
            cls.env, login="rl_event_other", groups="base.group_portal", partner_id=cls.other.id
        )
        product = cls.env["product.product"].create({"name": "Link coffee", "list_price": 5})
        order = cls.env["sale.order"].create(
            {"partner_id": cls.guest.id, "order_line": [Command.create({"product_id": product.id})]}
        )
        order.action_confirm()

    def _registrations(self, partner=None):
        return self.env["event.registration"].search(
            [("event_id", "=", self.event.id), ("partner_id", "=", (partner or self.guest).id)]
        )

    def _invitation_link(self):
        mail = self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.guest.id)]
        )
        self.assertIn("Roasting seminar", mail.subject)
        return REGISTER_URL.search(mail.body_html).group(1).replace("&amp;", "&")

    def _open(self, url, status=200):
        response = self.url_open(url, allow_redirects=False)
        text = response.text
        self.assertEqual(response.status_code, status, text[text.find("<main") :][:1500])
        return response

    def _confirm(self, url, status=200, **data):
        page = self._open(url)
        self.assertIn("o_retention_event_save_seat", page.text)
        response = self.url_open(
            urlsplit(url).path,
            data={"csrf_token": CSRF_TOKEN.search(page.text).group(1), **data},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, status, response.text[:300])
        return response

    def test_the_signed_link_registers_the_invited_guest_once(self):
        link = self._invitation_link()
        self.assertEqual(urlsplit(link).path, f"/retention/event/{self.event.id}/register")
        query = dict(part.split("=", 1) for part in urlsplit(link).query.split("&"))
        # Opening the link (a mail scanner does) registers nobody.
        self._open(link)
        self.assertFalse(self._registrations())
        response = self._confirm(link, **query)
        self.assertIn("o_retention_event_registered", response.text)
        registration = self._registrations()
        self.assertEqual((len(registration), registration.state), (1, "open"))
        self.assertEqual(registration.email, self.guest.email)
        # A second click gives the same registration.
        self._confirm(link, **query)
        self.assertEqual(self._registrations(), registration)

    def test_forged_or_foreign_links_register_nobody(self):
        link = self._invitation_link()
        guest_token = dict(part.split("=", 1) for part in urlsplit(link).query.split("&"))["token"]
        # The guest's token with its first character changed.
        forged_token = ("1" if guest_token[0] == "0" else "0") + guest_token[1:]
        base = f"/retention/event/{self.event.id}/register"
        # Another partner with the guest's token, a wrong token, no token at all.
        for url in (
            f"{base}?partner_id={self.other.id}&token={guest_token}",
            f"{base}?partner_id={self.guest.id}&token={forged_token}",
            f"{base}?partner_id={self.guest.id}",
            f"{base}?partner_id=abc&token={guest_token}",
            base,
        ):
            response = self._open(url, status=403)
            self.assertIn("o_retention_event_error", response.text, url)
            self.assertNotIn("o_retention_event_save_seat", response.text, url)
        # A valid signature of a partner who was not invited is no invitation either.
        signed_other = self.event._retention_registration_url(self.other)
        self._open(signed_other, status=403)
        # Another event than the invitation's.
        other_event = self.event.copy({"name": "Other seminar"})
        self._open(
            f"/retention/event/{other_event.id}/register?partner_id={self.guest.id}"
            f"&token={guest_token}",
            status=403,
        )
        self.assertFalse(
            self.env["event.registration"].search(
                [("event_id", "in", (self.event | other_event).ids)]
            )
        )

    def test_logged_in_portal_users(self):
        base = f"/retention/event/{self.event.id}/register"
        self.authenticate(self.other_user.login, self.other_user.login)
        self._open(base, status=403)
        self.assertFalse(self._registrations(self.other))
        self.authenticate(self.guest_user.login, self.guest_user.login)
        self._confirm(base)
        self._confirm(base)
        self.assertEqual(len(self._registrations()), 1)
