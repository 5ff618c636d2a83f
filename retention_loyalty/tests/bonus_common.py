"""Shared by the bonus point tests of retention_loyalty and its bridges."""

from datetime import date

from psycopg2 import errors

from odoo.tools import mute_logger

from .common import make_points_program, own_cursor_env


def make_bonus_program(env, name, period="year", **points):
    """A loyalty program paying ``points`` (source=points) as bonuses."""
    return make_points_program(
        env,
        name,
        retention_bonus_period=period,
        **{f"retention_bonus_{source}_points": value for source, value in points.items()},
    )


def bonus_entries(env, partner, source, program=None):
    domain = [
        ("partner_id", "=", partner.id),
        ("kind", "=", "bonus"),
        ("bonus_source", "=", source),
    ]
    if program:
        domain.append(("program_id", "=", program.id))
    return env["retention.points.entry"].search(domain, order="id")


class BonusRaceMixin:
    """Two real database transactions give the same bonus to the same
    customer at once: one bonus in the end. Test classes (with
    TransactionCase) set ``bonus_source`` and may give the bonus through
    their own flow (``_give``)."""

    # Odoo's loader runs only a class's own test methods unless told.
    allow_inherited_tests_method = True
    bonus_source = None
    race_day = date(2026, 6, 30)

    def _env(self):
        return own_cursor_env(self)

    def setUp(self):
        super().setUp()
        setup_env = self._env()
        program = make_bonus_program(
            setup_env, f"Race {self.bonus_source}", **{self.bonus_source: 40}
        )
        partner = setup_env["res.partner"].create(
            {"name": f"Racing {self.bonus_source}", "email": "racer@example.com"}
        )
        self.program_id, self.partner_id = program.id, partner.id
        self._set_up_committed(setup_env)
        setup_env.cr.commit()
        self.addCleanup(self._remove)

    def _set_up_committed(self, env):
        """Records of the subclass's flow, committed with the program."""

    def _remove_committed(self, env):
        """Remove what ``_set_up_committed`` made."""

    def _remove(self):
        env = self._env()
        self._remove_committed(env)
        env.cr.execute(
            "DELETE FROM retention_points_entry WHERE program_id = %s", [self.program_id]
        )
        env.cr.execute(
            "DELETE FROM loyalty_history WHERE card_id IN "
            "(SELECT id FROM loyalty_card WHERE program_id = %s)",
            [self.program_id],
        )
        env.cr.execute("DELETE FROM loyalty_card WHERE program_id = %s", [self.program_id])
        program = env["loyalty.program"].browse(self.program_id)
        program.active = False
        program.unlink()
        env["res.partner"].browse(self.partner_id).unlink()
        env.cr.commit()

    def _give(self, env, worker):
        """Give the bonus as worker ``worker`` ("a" or "b") would."""
        partner = env["res.partner"].browse(self.partner_id)
        env["loyalty.program"]._retention_grant_bonus(self.bonus_source, [(partner, self.race_day)])

    def _seen_by(self, env):
        """The bonus entries ``env``'s transaction sees."""
        return env["retention.points.entry"].search_count(
            [("program_id", "=", self.program_id), ("bonus_source", "=", self.bonus_source)]
        )

    def _bonuses(self):
        env = self._env()
        env.cr.execute(
            "SELECT count(*), COALESCE(sum(points), 0) FROM retention_points_entry"
            " WHERE program_id = %s AND kind = 'bonus' AND bonus_source = %s",
            [self.program_id, self.bonus_source],
        )
        count, points = env.cr.fetchone()
        env.cr.execute(
            "SELECT count(*), COALESCE(sum(points), 0) FROM loyalty_card WHERE program_id = %s",
            [self.program_id],
        )
        return count, points, *env.cr.fetchone()

    def test_race_on_an_existing_card(self):
        """The card exists: the second worker fails at once on its lock (a
        request is retried), and its retry finds the bonus given."""
        env = self._env()
        env["loyalty.card"].create({"program_id": self.program_id, "partner_id": self.partner_id})
        env.cr.commit()
        env_a, env_b = self._env(), self._env()
        self._give(env_a, "a")
        self.assertEqual(self._seen_by(env_a), 1)
        with self.assertRaises(errors.LockNotAvailable), mute_logger("odoo.sql_db"):
            self._give(env_b, "b")
        env_b.cr.rollback()
        env_a.cr.commit()
        env_b.invalidate_all()
        self._give(env_b, "b")
        env_b.cr.commit()
        self.assertEqual(self._bonuses(), (1, 40.0, 1, 40.0))

    def test_race_without_a_card(self):
        """No card yet: each worker makes one; the second's bonus, on its own
        new card, is refused by the unique index and its card goes with it."""
        env_a, env_b = self._env(), self._env()
        # B's snapshot is taken before A gives anything.
        entries_b = env_b["retention.points.entry"].search([("program_id", "=", self.program_id)])
        self.assertFalse(entries_b)
        self._give(env_a, "a")
        env_a.cr.commit()
        with mute_logger("odoo.sql_db"):
            self._give(env_b, "b")
        env_b.cr.commit()
        self.assertEqual(self._bonuses(), (1, 40.0, 1, 40.0))
