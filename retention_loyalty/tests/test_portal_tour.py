import unittest
from datetime import date

from odoo import Command
from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged

from .common import make_points_program, make_product


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' browser step"
)
class TestPortalSubscriptionTour(HttpCase):
    def test_customer_pauses_and_resumes_and_sees_points_and_club(self):
        company = self.env.company
        company.partner_id.tz = "UTC"
        company.retention_subscription_portal_manage = True
        customer = self.env["res.partner"].create(
            {"name": "Tour Portal Customer", "email": "tour.portal@example.com"}
        )
        new_test_user(
            self.env,
            login="rl_tour_portal",
            groups="base.group_portal",
            partner_id=customer.id,
        )
        program = make_points_program(
            self.env,
            "Tour Points",
            retention_expiry_policy="earned",
            retention_expiry_months=12,
        )
        self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": customer.id, "points": 120.0}
        )
        ladder = self.env["retention.club.ladder"].create({"name": "Tour levels"})
        silver, _gold = self.env["retention.club"].create(
            [
                {
                    "name": name,
                    "ladder_id": ladder.id,
                    "sequence": sequence,
                    "qualification_threshold": threshold,
                }
                for name, sequence, threshold in (
                    ("Tour Silver", 1, 500.0),
                    ("Tour Gold", 2, 2000.0),
                )
            ]
        )
        self.env["retention.club.membership"].create(
            {"partner_id": customer.id, "club_id": silver.id}
        )
        subscription = self.env["retention.subscription"].create(
            {
                "partner_id": customer.id,
                "date_start": date(2026, 1, 1),
                "line_ids": [
                    Command.create(
                        {
                            "product_id": make_product(self.env, "Tour coffee", 12.0).id,
                            "quantity": 2,
                        }
                    )
                ],
            }
        )
        subscription.action_activate()

        self.start_tour("/my/home", "retention_portal_tour", login="rl_tour_portal")

        subscription.invalidate_recordset()
        self.assertRecordValues(subscription, [{"state": "active", "resume_date": False}])
        self.assertEqual(
            subscription.event_ids.sorted("id").mapped("kind"), ["start", "pause", "resume"]
        )
        paused = subscription.message_ids.filtered(
            lambda message: "Paused by the customer in the portal until" in message.body
        )
        self.assertEqual(paused.author_id, customer)
