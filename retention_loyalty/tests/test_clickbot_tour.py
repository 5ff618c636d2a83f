import unittest

from odoo.service import server
from odoo.tests import HttpCase, tagged

CLICK_RETENTION_APP = (
    "odoo.loader.modules.get('@web/webclient/clickbot/clickbot_loader')"
    ".startClickEverywhere('retention_loyalty.retention_menu_root');"
)


@tagged("post_install", "-at_install", "-standard", "retention_clickbot")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' clickbot step"
)
class TestRetentionClickbot(HttpCase):
    """Odoo's clickbot opens every menu, view and filter of the Retention app,
    as Odoo's own test_click_everywhere does, on a database with demo data."""

    allow_end_on_form = True

    def _click_everywhere(self, login):
        user = self.env["res.users"].search([("login", "=", login)])
        self.assertTrue(user, f"the demo data has no user {login}")
        if "tour_enabled" in user._fields:
            user.tour_enabled = False
        self.browser_js(
            "/odoo",
            CLICK_RETENTION_APP,
            "odoo.isReady === true",
            login=login,
            timeout=1200,
            success_signal="clickbot test succeeded",
        )

    def test_click_everywhere_as_administrator(self):
        self._click_everywhere("admin")

    def test_click_everywhere_as_salesperson(self):
        self._click_everywhere("retention.demo.alice.martin")
