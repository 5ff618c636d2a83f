from psycopg2 import errors

from odoo import SUPERUSER_ID, Command
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import own_cursor_env


@tagged("post_install", "-at_install")
class TestRewardsClaimConcurrency(TransactionCase):
    """Two browser tabs claim a reward with the same points in two real
    transactions: the second fails at once with a concurrency error (Odoo
    retries the request), and the retry is refused with a clear message."""

    def _env(self, uid=SUPERUSER_ID):
        return own_cursor_env(self, uid)

    def setUp(self):
        super().setUp()
        env = self._env()
        partner = env["res.partner"].create({"name": "Two Tabs Customer"})
        user = env["res.users"].create(
            {
                "name": "Two Tabs Customer",
                "login": "rl_rewards_two_tabs",
                "partner_id": partner.id,
                "groups_id": [Command.set(env.ref("base.group_portal").ids)],
            }
        )
        program = env["loyalty.program"].create(
            {
                "name": "Two Tabs Points",
                "program_type": "loyalty",
                "trigger": "auto",
                "portal_point_name": "points",
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_applicability": "order",
                            "required_points": 100,
                        }
                    )
                ],
            }
        )
        card = env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": partner.id, "points": 150}
        )
        env.cr.commit()
        self.user_id, self.card_id, self.reward_id = user.id, card.id, program.reward_ids.id
        self.addCleanup(self._remove, program.id, partner.id, user.id)

    def _remove(self, program_id, partner_id, user_id):
        env = self._env()
        reward = env["loyalty.reward"].browse(self.reward_id)
        programs = env["loyalty.program"].browse(program_id) | reward.retention_claim_program_id
        env.cr.execute(
            "DELETE FROM retention_points_entry WHERE program_id = ANY(%s)", [programs.ids]
        )
        env["loyalty.card"].search([("program_id", "in", programs.ids)]).unlink()
        programs.active = False
        programs.unlink()
        env["res.users"].browse(user_id).unlink()
        env["res.partner"].browse(partner_id).unlink()
        env.cr.commit()

    def _claim(self, env):
        return env["retention.portal.rewards"]._claim(self.card_id, self.reward_id)

    def test_two_tabs_claiming_at_once_give_one_code(self):
        tab_a, tab_b = self._env(self.user_id), self._env(self.user_id)
        code = self._claim(tab_a)
        with self.assertRaises(errors.LockNotAvailable), mute_logger("odoo.sql_db"):
            self._claim(tab_b)
        tab_b.cr.rollback()
        tab_a.cr.commit()
        # Odoo's retry of the second request runs on fresh data.
        tab_b.invalidate_all()
        with self.assertRaisesRegex(
            UserError, r"^You have 50 points; 10% on your order needs 100 points\.$"
        ):
            self._claim(tab_b)
        tab_b.cr.rollback()
        check = self._env()
        card = check["loyalty.card"].browse(self.card_id)
        self.assertEqual(card.points, 50)
        self.assertEqual(
            sum(
                check["retention.points.entry"].search([("card_id", "=", card.id)]).mapped("points")
            ),
            50,
        )
        codes = check["loyalty.card"].search([("program_id", "=", code.program_id.id)])
        self.assertEqual(codes.mapped("code"), [code.code])
