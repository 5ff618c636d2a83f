import re
import unittest
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

from lxml import html

from odoo import Command, fields
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import make_product

CSRF_TOKEN = re.compile(r'csrf_token(?:"\s+value=|:\s*)"([^"]+)"')


class QuickReorderHttpCase(HttpCase):
    """A key account (a company) whose buyer has a portal login, with a
    member price on beans; a customer that is not a key account, and a
    contact of yet another company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.partner_id.tz = "UTC"
        cls.beans = make_product(cls.env, "Route Beans", 20.0)
        cls.filters = make_product(cls.env, "Route Filters", 4.0)
        cls.tea = make_product(cls.env, "Stranger Tea", 5.0)
        member_prices = cls.env["product.pricelist"].create(
            {
                "name": "Route members",
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "0_product_variant",
                            "product_id": cls.beans.id,
                            "compute_price": "fixed",
                            "fixed_price": 17.0,
                        }
                    )
                ],
            }
        )
        cls.key_account = cls.env["res.partner"].create(
            {
                "name": "Route Key Co",
                "is_company": True,
                "retention_key_account": True,
                "property_product_pricelist": member_prices.id,
            }
        )
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Robin Buyer", "parent_id": cls.key_account.id, "email": "robin@example.com"}
        )
        cls.buyer_user = new_test_user(
            cls.env, login="rl_route_buyer", groups="base.group_portal", partner_id=cls.buyer.id
        )
        cls.other_company = cls.env["res.partner"].create(
            {"name": "Route Plain Co", "is_company": True}
        )
        cls.other_contact = cls.env["res.partner"].create(
            {"name": "Sam Other", "parent_id": cls.other_company.id}
        )
        cls.other_user = new_test_user(
            cls.env,
            login="rl_route_other",
            groups="base.group_portal",
            partner_id=cls.other_contact.id,
        )
        for partner, days_ago, lines in (
            (cls.buyer, 40, {cls.beans: (2, 20.0), cls.filters: (1, 4.0)}),
            (cls.key_account, 20, {cls.beans: (2, 18.5), cls.filters: (3, 4.0)}),
            (cls.other_contact, 10, {cls.tea: (7, 5.0)}),
        ):
            cls.env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "date_order": datetime.combine(
                        fields.Date.today() - timedelta(days=days_ago), time(10)
                    ),
                    "state": "sale",
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": quantity,
                                "price_unit": price,
                            }
                        )
                        for product, (quantity, price) in lines.items()
                    ],
                }
            )

    def _login(self, user):
        self.authenticate(user.login, user.login)
        page = self.url_open("/my", allow_redirects=False)
        self.assertEqual(page.status_code, 200)
        self.csrf_token = CSRF_TOKEN.search(page.text).group(1)

    def _page(self, url="/my/reorder"):
        response = self.url_open(url, allow_redirects=False)
        self.assertEqual(response.status_code, 200, url)
        return html.fromstring(response.text)

    def _post(self, what, **data):
        return self.url_open(
            f"/my/reorder/{what}",
            data={"csrf_token": self.csrf_token, **data},
            allow_redirects=False,
        )

    def _quick_orders(self):
        return self.env["sale.order"].search([("origin", "=", "Quick reorder")])

    def _requested_subscriptions(self):
        return self.env["retention.subscription"].search([("requested_by_id", "!=", False)])


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestQuickReorderRoutes(QuickReorderHttpCase):
    def test_a_key_account_buyer_sees_their_usual_products_at_their_prices(self):
        self._login(self.buyer_user)
        home = self._page("/my/home")
        self.assertEqual(
            home.xpath("//a[@href='/my/reorder']//div[hasclass('o_portal_icon')]/img/@src"),
            ["/retention_loyalty/static/src/img/quick_reorder.svg"],
        )
        icon = self.url_open("/retention_loyalty/static/src/img/quick_reorder.svg")
        self.assertEqual(icon.status_code, 200)
        self.assertIn("<svg", icon.text)
        page = self._page()
        rows = page.xpath("//tr[hasclass('o_retention_reorder_line')]")
        self.assertEqual(
            [
                [" ".join(cell.text_content().split()) for cell in row.xpath("td")[:4]]
                + row.xpath(".//input/@value")
                for row in rows
            ],
            [
                ["Route Beans Usual", "2", "$ 18.50", "$ 17.00", "2"],
                ["Route Filters Usual", "3", "$ 4.00", "$ 4.00", "2"],
            ],
        )
        self.assertNotIn("Stranger Tea", page.text_content(), "another customer's products")
        self.assertEqual(
            page.xpath("//ol[hasclass('o_portal_submenu')]/li[last()]/text()"), ["Quick reorder"]
        )

    def test_customers_that_are_not_key_accounts_have_no_such_page(self):
        self._login(self.other_user)
        home = self._page("/my/home")
        self.assertFalse(home.xpath("//a[@href='/my/reorder']"))
        with mute_logger("odoo.http"):
            self.assertEqual(self.url_open("/my/reorder").status_code, 404)
            for what in ("order", "standing"):
                response = self._post(what, **{f"qty_{self.tea.id}": "1", "every": "1-month"})
                self.assertEqual(response.status_code, 404)
        self.assertFalse(self._quick_orders())
        self.assertFalse(self._requested_subscriptions())

    def test_one_click_makes_a_quotation_and_leads_to_its_portal_page(self):
        self._login(self.buyer_user)
        response = self._post(
            "order",
            **{
                f"qty_{self.beans.id}": "5",
                f"qty_{self.filters.id}": "0",
                # Hostile extras: someone else's name on the order is ignored.
                "partner_id": str(self.other_company.id),
                "company_id": "999",
            },
        )
        self.assertEqual(response.status_code, 303, response.text[:500])
        order = self._quick_orders()
        self.assertEqual(len(order), 1)
        location = urlsplit(response.headers["Location"])
        self.assertEqual(location.path, f"/my/orders/{order.id}")
        self.assertEqual(parse_qs(location.query)["access_token"], [order.access_token])
        self.assertRecordValues(
            order, [{"partner_id": self.buyer.id, "state": "sent", "amount_untaxed": 85.0}]
        )
        self.assertEqual(order.partner_id.commercial_partner_id, self.key_account)
        landing = self.url_open(response.headers["Location"], allow_redirects=False)
        self.assertEqual(landing.status_code, 200)
        self.assertIn(order.name, landing.text)

    def test_hostile_values_are_refused_with_a_message_and_nothing_is_created(self):
        foreign = make_product(self.env, "Route Foreign", 3.0)
        foreign.company_id = self.env["res.company"].create({"name": "Route Other Co"})
        self._login(self.buyer_user)
        for data, message in (
            ({f"qty_{self.beans.id}": "-3"}, "Quantities must be positive numbers"),
            ({f"qty_{self.beans.id}": "1; DROP TABLE"}, "Quantities must be numbers"),
            ({f"qty_{self.beans.id}": "0"}, "Choose a quantity for at least one product."),
            ({f"qty_{foreign.id}": "1"}, "Some of these products cannot be ordered here."),
            ({"qty_abc": "1"}, "Some of these products cannot be ordered here."),
        ):
            for what in ("order", "standing"):
                with self.subTest(what=what, **data):
                    response = self._post(what, every="1-month", **data)
                    self.assertEqual(response.status_code, 200)
                    page = html.fromstring(response.text)
                    self.assertIn(
                        message,
                        page.xpath("string(//*[hasclass('o_retention_quick_reorder_error')])"),
                    )
        response = self._post(
            "standing", every="every-day", **{f"qty_{self.beans.id}": "7", "first_date": ""}
        )
        page = html.fromstring(response.text)
        self.assertEqual(
            page.xpath("string(//*[hasclass('o_retention_quick_reorder_error')])"),
            "Choose how often to order.",
        )
        self.assertEqual(
            page.xpath(f"//input[@name='qty_{self.beans.id}']/@value"),
            ["7"],
            "what the customer typed is kept",
        )
        self.assertFalse(self._quick_orders())
        self.assertFalse(self._requested_subscriptions())

    def test_posts_need_the_csrf_token(self):
        self._login(self.buyer_user)
        with mute_logger("odoo.http"):
            for what in ("order", "standing"):
                forged = self.url_open(
                    f"/my/reorder/{what}",
                    data={"csrf_token": "forged", f"qty_{self.beans.id}": "1", "every": "1-month"},
                    allow_redirects=False,
                )
                self.assertEqual(forged.status_code, 400)
                self.assertEqual(
                    self.url_open(f"/my/reorder/{what}", allow_redirects=False).status_code, 405
                )
        self.assertFalse(self._quick_orders())
        self.assertFalse(self._requested_subscriptions())

    def test_a_standing_order_waits_for_the_team_then_shows_in_the_subscriptions(self):
        self._login(self.buyer_user)
        page = self._page()
        every = page.xpath("//select[@name='every']/option/@value")
        self.assertEqual(every, ["1-week", "2-week", "1-month", "2-month", "3-month", "6-month"])
        response = self._post(
            "standing", every="2-month", **{f"qty_{self.beans.id}": "2", "first_date": ""}
        )
        self.assertEqual(response.status_code, 303, response.text[:500])
        location = urlsplit(response.headers["Location"])
        self.assertEqual((location.path, location.query), ("/my/reorder", "standing=requested"))
        draft = self._requested_subscriptions()
        self.assertRecordValues(
            draft,
            [
                {
                    "partner_id": self.key_account.id,
                    "requested_by_id": self.buyer.id,
                    "state": "draft",
                    "interval": 2,
                }
            ],
        )
        page = self._page("/my/reorder?standing=requested")
        self.assertTrue(page.xpath("//*[hasclass('o_retention_standing_requested')]"))
        self.assertIn(
            "Every 2 months",
            page.xpath("string(//*[hasclass('o_retention_standing_pending')])"),
        )
        draft.action_activate()
        listing = self.url_open("/my/subscriptions")
        self.assertIn(draft.name, listing.text)

    def test_a_standing_order_starts_at_once_when_the_company_says_so(self):
        self.company.retention_standing_order_state = "active"
        first = fields.Date.today() + timedelta(days=10)
        self._login(self.buyer_user)
        for every in ("1-week", "2-week", "1-month", "2-month", "3-month", "6-month"):
            with self.subTest(every=every):
                response = self._post(
                    "standing",
                    every=every,
                    first_date=first.isoformat(),
                    **{f"qty_{self.filters.id}": "4"},
                )
                self.assertEqual(response.status_code, 303, response.text[:500])
        subscriptions = self._requested_subscriptions()
        self.assertEqual(set(subscriptions.mapped("state")), {"active"})
        self.assertEqual(
            sorted(subscriptions.mapped(lambda sub: (sub.interval_unit, sub.interval))),
            [("month", 1), ("month", 2), ("month", 3), ("month", 6), ("week", 1), ("week", 2)],
        )
        latest = subscriptions.sorted("id")[-1]
        self.assertEqual(
            urlsplit(response.headers["Location"]).path, f"/my/subscriptions/{latest.id}"
        )
        self.assertIn(latest.name, self.url_open("/my/subscriptions").text)


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' browser step"
)
class TestQuickReorderTour(QuickReorderHttpCase):
    def test_a_key_account_buyer_reorders_in_one_click(self):
        self.start_tour("/my/home", "retention_quick_reorder_tour", login="rl_route_buyer")
        order = self._quick_orders()
        self.assertEqual(len(order), 1)
        self.assertEqual(order.partner_id, self.buyer)
        self.assertEqual(
            [(line.product_id, line.product_uom_qty) for line in order.order_line],
            [(self.beans, 6), (self.filters, 2)],
        )
