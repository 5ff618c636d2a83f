from odoo import Command
from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.addons.retention_loyalty.tests.common import make_points_program


@tagged("post_install", "-at_install", "retention_browser")
class TestMemberAtTheTillTour(TestPointOfSaleHttpCommon):
    def test_member_pays_member_prices_and_earns_points_on_the_ledger(self):
        self.whiteboard_pen.write({"lst_price": 10})
        self.main_pos_config.write({"tax_regime_selection": False, "use_pricelist": False})
        member_pricelist = self.env["product.pricelist"].create(
            {
                "name": "Members -10%",
                "currency_id": self.main_pos_config.currency_id.id,
                "item_ids": [
                    Command.create(
                        {
                            "compute_price": "percentage",
                            "percent_price": 10,
                            "applied_on": "3_global",
                        }
                    )
                ],
            }
        )
        club = self.env["retention.club"].create(
            {
                "name": "Till Members",
                "policy": "free",
                "pricelist_id": member_pricelist.id,
                "company_id": self.main_pos_config.company_id.id,
            }
        )
        member = self.env["res.partner"].create({"name": "Member at the Till"})
        self.env["retention.club.membership"].create(
            {"partner_id": member.id, "club_id": club.id, "origin": "enrolment"}
        )
        program = make_points_program(self.env, "Till Points")
        self.main_pos_config.with_user(self.pos_user).open_ui()

        self.start_pos_tour("RetentionMemberAtTheTill")

        order = self.env["pos.order"].search([("partner_id", "=", member.id)])
        self.assertRecordValues(
            order, [{"pricelist_id": member_pricelist.id, "amount_total": 9.0, "state": "paid"}]
        )
        card = self.env["loyalty.card"].search(
            [("partner_id", "=", member.id), ("program_id", "=", program.id)]
        )
        self.assertRecordValues(
            card.retention_entry_ids,
            [{"kind": "earn", "points": 9.0, "pos_order_id": order.id}],
        )
        self.assertEqual(card.points, 9.0)
