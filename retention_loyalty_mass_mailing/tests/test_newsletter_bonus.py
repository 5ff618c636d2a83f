from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.retention_loyalty.tests.bonus_common import (
    BonusRaceMixin,
    bonus_entries,
    make_bonus_program,
)


@tagged("post_install", "-at_install")
class TestNewsletterBonus(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = make_bonus_program(cls.env, "Newsletter Club", newsletter=15)
        cls.newsletter = cls.env["mailing.list"].create({"name": "Newsletter"})
        cls.offers = cls.env["mailing.list"].create({"name": "Offers"})
        cls.customer = cls.env["res.partner"].create(
            {"name": "Reader", "email": "Reader <READER@example.com>"}
        )
        # A later duplicate with the same email earns nothing more.
        cls.duplicate = cls.env["res.partner"].create(
            {"name": "Reader (copy)", "email": "reader@example.com"}
        )

    def _bonuses(self):
        return bonus_entries(self.env, self.customer, "newsletter")

    def test_subscribing_gives_the_bonus_once_per_year(self):
        with freeze_time("2026-06-30"):
            contact = self.env["mailing.contact"].create(
                {"name": "Reader", "email": "reader@example.com"}
            )
            self.assertFalse(self._bonuses())
            contact.list_ids = [Command.link(self.newsletter.id)]
            [entry] = self._bonuses()
            self.assertEqual((entry.points, entry.bonus_period), (15.0, "2026"))
            # Another list, an opt-out and a new subscription the same year: nothing more.
            self.env["mailing.subscription"].create(
                {"contact_id": contact.id, "list_id": self.offers.id}
            )
            subscription = contact.subscription_ids.filtered(
                lambda sub: sub.list_id == self.newsletter
            )
            subscription.opt_out = True
            subscription.opt_out = False
            self.assertEqual(len(self._bonuses()), 1)
        with freeze_time("2027-03-01"):
            subscription.opt_out = True
            self.assertEqual(len(self._bonuses()), 1)
            subscription.opt_out = False
        self.assertEqual(self._bonuses().mapped("bonus_period"), ["2026", "2027"])
        self.assertFalse(bonus_entries(self.env, self.duplicate, "newsletter"))

    def test_opted_out_contacts_and_playbook_subscriptions_earn_nothing(self):
        with freeze_time("2026-06-30"):
            self.env["mailing.contact"].create(
                {
                    "name": "Reader",
                    "email": "reader@example.com",
                    "subscription_ids": [
                        Command.create({"list_id": self.newsletter.id, "opt_out": True})
                    ],
                }
            )
            self.assertFalse(self._bonuses())
            playbook = self.env["retention.playbook"].create(
                {
                    "name": "Newsletter for everyone",
                    "trigger": "overdue",
                    "control_percent": 0,
                    "action_ids": [
                        Command.create({"kind": "mailing_list", "mailing_list_id": self.offers.id})
                    ],
                }
            )
            stranger = self.env["res.partner"].create(
                {"name": "Stranger", "email": "stranger@example.com"}
            )
            action = playbook.action_ids
            results = {stranger.id: {}}
            notes = {stranger.id: []}
            action._run_mailing_list(stranger, None, results, notes)
            self.assertEqual(
                self.env["mailing.contact"]
                .search([("email", "=", "stranger@example.com")])
                .list_ids,
                self.offers,
            )
            self.assertFalse(bonus_entries(self.env, stranger, "newsletter"))

    def test_salesperson_cannot_change_the_newsletter_bonus(self):
        salesman = new_test_user(
            self.env, login="rl_news_salesman", groups="sales_team.group_sale_salesman"
        )
        with self.assertRaises(AccessError):
            self.program.with_user(salesman).retention_bonus_newsletter_points = 500
        self.assertEqual(self.program.retention_bonus_newsletter_points, 15.0)


@tagged("post_install", "-at_install")
class TestNewsletterBonusRace(BonusRaceMixin, TransactionCase):
    """Two workers subscribe the same customer to two lists at once."""

    bonus_source = "newsletter"

    def _set_up_committed(self, env):
        self.list_ids = env["mailing.list"].create([{"name": "Race A"}, {"name": "Race B"}]).ids
        self.contact_id = (
            env["mailing.contact"].create({"name": "Racer", "email": "racer@example.com"}).id
        )

    def _remove_committed(self, env):
        env["mailing.contact"].browse(self.contact_id).unlink()
        env["mailing.list"].browse(self.list_ids).unlink()

    def _give(self, env, worker):
        env["mailing.subscription"].create(
            {"contact_id": self.contact_id, "list_id": self.list_ids[worker == "b"]}
        )
