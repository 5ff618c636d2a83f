import unittest

from odoo.service import server
from odoo.tests import HttpCase, new_test_user, tagged

from ..engine.customer_movement import month_start
from ..engine.dates import add_months
from .common import make_order, make_product


@tagged("post_install", "-at_install", "retention_browser")
@unittest.skipUnless(
    server.server, "needs Odoo's HTTP server and Chromium: run by the harness' browser step"
)
class TestDashboardTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = new_test_user(
            cls.env,
            login="rl_tour_seller",
            name="Tour Seller",
            groups="sales_team.group_sale_salesman",
        )
        cls.other = new_test_user(
            cls.env,
            login="rl_tour_other_seller",
            name="Tour Other Seller",
            groups="sales_team.group_sale_salesman",
        )
        new_test_user(cls.env, login="rl_tour_manager", groups="sales_team.group_sale_manager")
        product = make_product(cls.env, "Tour Coffee", 10.0)
        today = cls.env.cr.now().date()
        last_month = add_months(month_start(today), -1)
        for name, seller in (("Tour Dashboard Customer", cls.seller), ("Tour Other", cls.other)):
            partner = cls.env["res.partner"].create({"name": name})
            make_order(
                cls.env, partner, product, 120.0, add_months(last_month, -1), user_id=seller.id
            )
            make_order(cls.env, partner, product, 200.0, last_month, user_id=seller.id)
        company = cls.env.company
        cls.env["retention.customer.month"]._rebuild_company(company)
        cls.env["retention.scorecard"]._compute_period(company, "month", last_month)

    def test_manager_drills_down_from_the_overview(self):
        self.start_tour(
            "/odoo/action-retention_loyalty.retention_customer_month_action",
            "retention_dashboard_tour",
            login="rl_tour_manager",
        )

    def test_salesperson_opens_their_scorecard(self):
        self.start_tour(
            "/odoo/action-retention_loyalty.retention_scorecard_action",
            "retention_scorecard_tour",
            login="rl_tour_seller",
        )
