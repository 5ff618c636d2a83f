from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestMailingListAction(TransactionCase):
    @freeze_time("2026-06-01")
    def test_new_customers_join_the_newsletter(self):
        newsletter = self.env["mailing.list"].create({"name": "Newsletter"})
        playbook = self.env["retention.playbook"].create(
            {
                "name": "Newsletter for new customers",
                "trigger": "order_confirmed",
                "order_mode": "first",
                "control_percent": 0,
                "action_ids": [
                    Command.create({"kind": "mailing_list", "mailing_list_id": newsletter.id})
                ],
            }
        )
        product = self.env["product.product"].create({"name": "Mailing coffee", "list_price": 5})
        subscriber = self.env["res.partner"].create(
            {"name": "Reader", "email": "reader@example.com"}
        )
        silent = self.env["res.partner"].create({"name": "No Email"})
        for partner in (subscriber, silent):
            order = self.env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
            order.action_confirm()
        contact = self.env["mailing.contact"].search([("email", "=", "reader@example.com")])
        self.assertIn(newsletter, contact.list_ids)
        runs = self.env["retention.playbook.run"].search([("playbook_id", "=", playbook.id)])
        by_partner = {run.partner_id: run for run in runs}
        self.assertIn("Subscribed", by_partner[subscriber].message)
        self.assertIn("No email", by_partner[silent].message)

    def test_a_list_is_required(self):
        with self.assertRaises(ValidationError):
            self.env["retention.playbook"].create(
                {
                    "name": "No list",
                    "trigger": "overdue",
                    "action_ids": [Command.create({"kind": "mailing_list"})],
                }
            )
