import re
import unittest
from datetime import date

from lxml import html

from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import make_order, make_points_program, make_product

CSRF_TOKEN = re.compile(r'csrf_token(?:"\s+value=|:\s*)"([^"]+)"')


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server: run by the harness' browser step (Odoo's runner)"
)
class TestRewardsPortalRoutes(HttpCase):
    """The rewards page over HTTP as the customer's portal user uses it:
    what it shows, its pages, claiming and joining, and what it refuses."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Route Brewer", "is_company": True})
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Route Buyer", "parent_id": cls.customer.id}
        )
        cls.stranger = cls.env["res.partner"].create({"name": "Route Stranger"})
        cls.buyer_user = new_test_user(
            cls.env,
            login="rl_rewards_route_buyer",
            name="Route Buyer",
            groups="base.group_portal",
            partner_id=cls.buyer.id,
        )
        cls.stranger_user = new_test_user(
            cls.env,
            login="rl_rewards_route_stranger",
            name="Route Stranger",
            groups="base.group_portal",
            partner_id=cls.stranger.id,
        )
        cls.program = make_points_program(
            cls.env,
            "Route Points",
            reward={"discount": 10, "discount_mode": "percent", "required_points": 100},
        )
        cls.reward = cls.program.reward_ids
        cls.big_reward = cls.env["loyalty.reward"].create(
            {
                "program_id": cls.program.id,
                "reward_type": "product",
                "reward_product_id": make_product(cls.env, "Route grinder", 90.0).id,
                "required_points": 5000,
            }
        )
        cls.card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.customer.id}
        )
        cls.stranger_card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.stranger.id, "points": 400}
        )
        order = make_order(
            cls.env,
            cls.customer,
            make_product(cls.env, "Route coffee", 10.0),
            120.0,
            day=date(2025, 3, 1),
        )
        order.message_subscribe(cls.buyer.ids)
        cls.order = order
        cls.env["loyalty.card"]._retention_post(
            [
                {
                    "card": cls.card,
                    "kind": "earn",
                    "points": 120,
                    "order_id": order.id,
                    "description": "-",
                    "date": date(2025, 3, 1),
                }
            ]
            + [
                {
                    "card": cls.card,
                    "kind": "bonus",
                    "points": 10,
                    "description": f"Visit {index}",
                    "date": date(2025, 4, 1),
                }
                for index in range(25)
            ]
        )
        cls.club = cls.env["retention.club"].create(
            {
                "name": "Route Tasting Club",
                "policy": "free",
                "portal_joinable": True,
                "portal_terms": "<p>One email a month.</p>",
            }
        )
        cls.paid_club = cls.env["retention.club"].create(
            {
                "name": "Route Paid Club",
                "policy": "paid",
                "product_id": make_product(cls.env, "Route club fee", 30.0).id,
            }
        )

    def _login(self, user):
        self.authenticate(user.login, user.login)
        page = self.url_open("/my", allow_redirects=False)
        self.assertEqual(page.status_code, 200)
        self.csrf_token = CSRF_TOKEN.search(page.text).group(1)
        return page

    def _post(self, url, csrf=True, **data):
        if csrf:
            data["csrf_token"] = self.csrf_token
        return self.url_open(url, data=data, allow_redirects=False)

    def _texts(self, page, css_class):
        """Texts of the elements of the page with this class, spaces collapsed."""
        return [
            " ".join(node.text_content().split())
            for node in html.fromstring(page.text).xpath(
                f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {css_class} ')]"
            )
        ]

    def test_the_page_and_its_pages(self):
        home = self._login(self.buyer_user)
        self.assertIn('href="/my/rewards"', home.text)
        page = self.url_open("/my/rewards")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(self._texts(page, "o_retention_balance"), ["370 points"])
        self.assertEqual(len(self._texts(page, "o_retention_ledger_line")), 20)
        self.assertEqual(
            self._texts(page, "o_retention_ledger_text")[:2], ["Bonus: Visit 24", "Bonus: Visit 23"]
        )
        self.assertEqual(len(self._texts(page, "o_retention_claim_form")), 1)
        self.assertEqual(self._texts(page, "o_retention_missing"), ["4630 points to go"])
        second = self.url_open("/my/rewards/page/2")
        self.assertEqual(
            self._texts(second, "o_retention_ledger_text"),
            [
                *(f"Bonus: Visit {index}" for index in range(4, -1, -1)),
                f"Earned on order {self.order.name}",
            ],
        )
        self.assertIn(f'href="/my/orders/{self.order.id}"', second.text)
        # Someone else sees only their own card.
        self._login(self.stranger_user)
        page = self.url_open("/my/rewards")
        self.assertEqual(self._texts(page, "o_retention_balance"), ["400 points"])
        self.assertNotIn("Visit", page.text)

    def test_claim_and_what_it_refuses(self):
        self._login(self.buyer_user)
        with mute_logger("odoo.http"):
            no_csrf = self._post(
                "/my/rewards/claim", csrf=False, card_id=self.card.id, reward_id=self.reward.id
            )
        self.assertEqual(no_csrf.status_code, 400)
        for card_id, reward_id in (
            (self.stranger_card.id, self.reward.id),
            ("abc", self.reward.id),
            (f"{self.card.id} OR 1=1", self.reward.id),
        ):
            with self.subTest(card=card_id):
                self.assertEqual(
                    self._post(
                        "/my/rewards/claim", card_id=card_id, reward_id=reward_id
                    ).status_code,
                    404,
                )
        too_big = self._post(
            "/my/rewards/claim", card_id=self.card.id, reward_id=self.big_reward.id
        )
        self.assertEqual(too_big.status_code, 409)
        self.assertEqual(
            self._texts(too_big, "o_retention_rewards_error"),
            ["You have 370 points; Free Product - Route grinder needs 5000 points."],
        )
        self.assertEqual((self.card.points, self.stranger_card.points), (370, 400))

        claimed = self._post("/my/rewards/claim", card_id=self.card.id, reward_id=self.reward.id)
        self.assertEqual(claimed.status_code, 303)
        code = self.env["loyalty.card"].search(
            [("program_id", "=", self.reward.retention_claim_program_id.id)]
        )
        self.assertTrue(claimed.headers["Location"].endswith(f"/my/rewards?claimed={code.id}"))
        page = self.url_open(f"/my/rewards?claimed={code.id}")
        self.assertEqual(self._texts(page, "o_retention_claimed_code"), [code.code])
        self.assertEqual(self._texts(page, "o_retention_balance"), ["270 points"])
        # Another customer's code is never shown, whatever the link says.
        self._login(self.stranger_user)
        page = self.url_open(f"/my/rewards?claimed={code.id}")
        self.assertNotIn(code.code, page.text)

    def test_join_and_leave_over_http(self):
        self._login(self.buyer_user)
        refused = self._post(f"/my/rewards/clubs/{self.paid_club.id}/join", accept_terms="on")
        self.assertEqual(refused.status_code, 409)
        self.assertEqual(
            self._texts(refused, "o_retention_rewards_error"), ["This club cannot be joined here."]
        )
        no_terms = self._post(f"/my/rewards/clubs/{self.club.id}/join")
        self.assertEqual(no_terms.status_code, 409)
        joined = self._post(f"/my/rewards/clubs/{self.club.id}/join", accept_terms="on")
        self.assertEqual(joined.status_code, 303)
        membership = self.env["retention.club.membership"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertRecordValues(membership, [{"club_id": self.club.id, "state": "active"}])
        page = self.url_open("/my/rewards")
        self.assertEqual(len(self._texts(page, "o_retention_leave_form")), 1)
        self._login(self.stranger_user)
        self.assertEqual(
            self._post(f"/my/rewards/memberships/{membership.id}/leave").status_code, 409
        )
        self.assertEqual(membership.state, "active")
        self._login(self.buyer_user)
        left = self._post(f"/my/rewards/memberships/{membership.id}/leave")
        self.assertEqual(left.status_code, 303)
        self.assertEqual(membership.state, "cancelled")
