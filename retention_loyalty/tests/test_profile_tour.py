import unittest

from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged

from .bonus_common import bonus_entries, make_bonus_program
from .common import make_product


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' browser step"
)
class TestProfileTour(HttpCase):
    def test_customer_completes_the_profile_and_sees_the_bonus(self):
        make_bonus_program(self.env, "Tour Profile Club", profile=50)
        category = self.env["product.category"].create({"name": "Tour Profile Beans"})
        make_product(self.env, "Tour profile espresso", 12.0).categ_id = category
        customer = self.env["res.partner"].create(
            {"name": "Tour Profile Customer", "email": "tour.profile@example.com"}
        )
        new_test_user(
            self.env,
            login="rl_tour_profile",
            name="Tour Profile Customer",
            groups="base.group_portal",
            partner_id=customer.id,
        )

        self.start_tour("/my/home", "retention_profile_tour", login="rl_tour_profile")

        self.assertEqual(customer.retention_preference_ids, category)
        self.assertEqual(customer.retention_marketing_consent, "yes")
        self.assertEqual(str(customer.retention_birthday), "1988-05-17")
        self.assertEqual(bonus_entries(self.env, customer, "profile").mapped("points"), [50.0])
