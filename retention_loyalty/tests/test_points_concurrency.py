from psycopg2 import errors

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import own_cursor_env


@tagged("post_install", "-at_install")
class TestPointsConcurrency(TransactionCase):
    """Two real database transactions spend the same balance: one fails at
    once with a concurrency error (which Odoo answers by retrying the
    request), and the retry sees the other's spending."""

    def _env(self):
        return own_cursor_env(self)

    def setUp(self):
        super().setUp()
        setup_env = self._env()
        program = setup_env["loyalty.program"].create(
            {"name": "Concurrent Points", "program_type": "loyalty", "trigger": "auto"}
        )
        partner = setup_env["res.partner"].create({"name": "Concurrent Customer"})
        card = setup_env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": partner.id, "points": 100}
        )
        setup_env.cr.commit()
        self.card_id = card.id
        self.addCleanup(self._remove, program.id, partner.id, card.id)

    def _remove(self, program_id, partner_id, card_id):
        cleanup_env = self._env()
        cleanup_env.cr.execute("DELETE FROM retention_points_entry WHERE card_id = %s", [card_id])
        cleanup_env["loyalty.card"].browse(card_id).unlink()
        program = cleanup_env["loyalty.program"].browse(program_id)
        program.active = False
        program.unlink()
        cleanup_env["res.partner"].browse(partner_id).unlink()
        cleanup_env.cr.commit()

    def _spend(self, env, points, label):
        card = env["loyalty.card"].browse(self.card_id)
        return env["loyalty.card"]._retention_post(
            [{"card": card, "kind": "spend", "points": -points, "description": label}]
        )

    def _ledger(self, env):
        env.cr.execute(
            "SELECT c.points, sum(e.points), sum(e.remaining) FROM loyalty_card c "
            "JOIN retention_points_entry e ON e.card_id = c.id WHERE c.id = %s GROUP BY c.points",
            [self.card_id],
        )
        return env.cr.fetchone()

    def test_a_locked_balance_fails_the_second_spender_at_once(self):
        env_a, env_b = self._env(), self._env()
        self._spend(env_a, 80, "A")
        with self.assertRaises(errors.LockNotAvailable), mute_logger("odoo.sql_db"):
            self._spend(env_b, 80, "B")
        env_b.cr.rollback()
        env_a.cr.commit()
        # The retry runs on fresh data and is refused cleanly.
        env_b.invalidate_all()
        with self.assertRaises(UserError):
            self._spend(env_b, 80, "B retried")
        env_b.cr.rollback()
        self.assertEqual(self._ledger(self._env()), (20.0, 20.0, 20.0))

    def test_a_stale_snapshot_cannot_spend_after_the_other_commits(self):
        env_a, env_b = self._env(), self._env()
        self.assertEqual(env_b["loyalty.card"].browse(self.card_id).points, 100)  # B's snapshot
        self._spend(env_a, 80, "A")
        env_a.cr.commit()
        with self.assertRaises(errors.SerializationFailure), mute_logger("odoo.sql_db"):
            self._spend(env_b, 80, "B")
        env_b.cr.rollback()
        env_b.invalidate_all()
        self._spend(env_b, 20, "B retried")
        env_b.cr.commit()
        self.assertEqual(self._ledger(self._env()), (0.0, 0.0, 0.0))
