import threading
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_cron import CompletionStatus

from .common import make_points_program

CARDS = 3
LOTS_PER_CARD = 2
BATCH = 2


class PowerCut(Exception):
    """The server dies in the middle of a batch."""


@tagged("post_install", "-at_install")
class TestExpiryCronRecovery(TransactionCase):
    """The points expiry cron, run by Odoo's cron runner (``_run_job``) on
    real, committed transactions: it expires due lots a batch at a time,
    each batch committed. When the server dies in the middle of a batch,
    the batches before it stay done, the broken one is undone as a whole,
    and the next run finishes the work: no lot expires twice, none is lost.

    Under test the cron does not commit (``threading.current_thread().testing``);
    here that flag is lowered around the runs so that its own commit path
    runs. The cursors are made in the main thread (Odoo's runner holds the
    registry lock), and everything committed is removed afterwards."""

    def _new_env(self):
        cursor = self.registry.cursor()
        self.addCleanup(cursor.close)
        return api.Environment(cursor, SUPERUSER_ID, {"tracking_disable": True})

    def setUp(self):
        super().setUp()
        env = self._new_env()
        today = fields.Date.context_today(env["loyalty.card"])
        self.program = make_points_program(
            env,
            "Expiry Recovery Points",
            retention_expiry_policy="earned",
            retention_expiry_months=6,
        )
        self.partners = env["res.partner"].create(
            [{"name": f"Expiry Recovery Customer {n}"} for n in range(CARDS)]
        )
        self.cards = env["loyalty.card"].create(
            [
                {"program_id": self.program.id, "partner_id": partner.id, "points": 0}
                for partner in self.partners
            ]
        )
        env.cr.execute("SELECT coalesce(max(id), 0) FROM ir_cron_progress")
        self.last_progress_id = env.cr.fetchone()[0]
        env.cr.commit()
        self.addCleanup(self._remove)
        # Lots earned 8 and 7 months ago: due under the 6-month rule.
        env["loyalty.card"]._retention_post(
            [
                {
                    "card": card,
                    "kind": "bonus",
                    "points": 10.0 * (index + 1) + lot,
                    "description": f"Old bonus {lot}",
                    "date": today - relativedelta(months=8 - lot),
                }
                for index, card in enumerate(self.cards)
                for lot in range(LOTS_PER_CARD)
            ],
            write_history=True,
        )
        env.cr.commit()
        self.lots = env["retention.points.entry"].search([("card_id", "in", self.cards.ids)])
        self.points_before = {card.id: card.points for card in self.cards}
        self.assertEqual(len(self.lots), CARDS * LOTS_PER_CARD)
        self.assertTrue(all(lot.expiry_date <= today for lot in self.lots))
        env.cr.execute(
            "SELECT count(*) FROM retention_points_entry"
            " WHERE remaining > 0 AND expiry_date <= %s AND NOT (card_id = ANY(%s))",
            [today, self.cards.ids],
        )
        self.assertEqual(env.cr.fetchone()[0], 0, "the cron must find only this test's lots")
        self.cron = self.env.ref("retention_loyalty.ir_cron_retention_expire_points")

    def _remove(self):
        env = self._new_env()
        cr = env.cr
        card_ids = tuple(self.cards.ids)
        cr.execute("DELETE FROM retention_points_entry WHERE card_id IN %s", [card_ids])
        cr.execute("DELETE FROM loyalty_history WHERE card_id IN %s", [card_ids])
        cr.execute("DELETE FROM loyalty_card WHERE id IN %s", [card_ids])
        cr.execute(
            "DELETE FROM ir_cron_progress WHERE cron_id = %s AND id > %s",
            [self.cron.id, self.last_progress_id],
        )
        program = env["loyalty.program"].browse(self.program.id)
        program.active = False  # Odoo refuses to delete an active program
        program.unlink()
        env["res.partner"].browse(self.partners.ids).unlink()
        # The test's own committed data goes: this commit is the clean-up.
        cr.commit()  # pylint: disable=invalid-commit

    def _run_cron(self, crash_on_call=None):
        """The cron as Odoo's cron worker runs it, in batches of ``BATCH``
        lots; ``crash_on_call`` makes that call die after its work, before
        its commit."""
        Card = type(self.env["loyalty.card"])
        expire_due = Card._retention_expire_due
        expire_points = Card._cron_expire_points
        calls = []

        def in_small_batches(model, batch_size=20000):
            return expire_points(model, batch_size=BATCH)

        def dying(model, batch_size, today=None):
            result = expire_due(model, batch_size, today)
            calls.append(result)
            if len(calls) == crash_on_call:
                raise PowerCut("the server died")
            return result

        job = {
            "id": self.cron.id,
            "cron_name": self.cron.cron_name,
            "user_id": self.cron.user_id.id,
            "ir_actions_server_id": self.cron.ir_actions_server_id.id,
            "lastcall": self.cron.lastcall,
            "timed_out_counter": 0,
            "active": True,
        }
        with (
            patch.object(Card, "_cron_expire_points", in_small_batches),
            patch.object(Card, "_retention_expire_due", dying),
            patch.object(threading.current_thread(), "testing", False, create=True),
            mute_logger("odoo.addons.base.models.ir_cron"),
        ):
            status = type(self.env["ir.cron"])._run_job(job)
        return status, calls

    def _state(self):
        """(lot ids expired, expire entries per lot description, balance per card),
        read on a fresh transaction: what is committed."""
        env = self._new_env()
        lots = env["retention.points.entry"].browse(self.lots.ids)
        expired = lots.filtered(lambda lot: not lot.remaining)
        expire_entries = env["retention.points.entry"].search(
            [("card_id", "in", self.cards.ids), ("kind", "=", "expire")]
        )
        history = env["loyalty.history"].search(
            [("card_id", "in", self.cards.ids), ("description", "=", "Points expired")]
        )
        balances = {card.id: card.points for card in env["loyalty.card"].browse(self.cards.ids)}
        return expired, expire_entries, history, balances

    def test_a_crash_in_the_second_batch_loses_nothing_and_repeats_nothing(self):
        self.assertEqual(self.cron.code, "model._cron_expire_points()")
        status, calls = self._run_cron(crash_on_call=2)
        self.assertEqual(status, CompletionStatus.FAILED)
        self.assertEqual([done for done, _left in calls], [BATCH, BATCH])
        expired, entries, history, balances = self._state()
        # The first batch is committed; the second is undone as a whole.
        self.assertEqual(len(expired), BATCH)
        self.assertEqual(len(entries), BATCH)
        self.assertEqual(
            sorted(entries.mapped("points")), sorted(-lot for lot in self._points(expired))
        )
        self.assertEqual(sum(history.mapped("used")), sum(self._points(expired)))
        for card in self.cards:
            lost = sum(self._points(expired.filtered(lambda lot, card=card: lot.card_id == card)))
            self.assertEqual(balances[card.id], self.points_before[card.id] - lost)

        status, calls = self._run_cron()
        self.assertEqual(status, CompletionStatus.FULLY_DONE)
        lots = CARDS * LOTS_PER_CARD
        self.assertEqual([done for done, _left in calls], [BATCH] * ((lots - BATCH) // BATCH))
        expired, entries, history, balances = self._state()
        self.assertEqual(len(expired), lots)
        self.assertEqual(len(entries), lots, "one expiry per lot")
        total = sum(self._points(self.lots))
        self.assertEqual(sum(entries.mapped("points")), -total)
        self.assertEqual(sum(history.mapped("used")), total)
        self.assertEqual(set(balances.values()), {0.0})

        # A run with nothing left changes nothing.
        status, calls = self._run_cron()
        self.assertEqual(status, CompletionStatus.FULLY_DONE)
        self.assertEqual(calls, [(0, 0)])
        self.assertEqual(len(self._state()[1]), lots)

    def _points(self, lots):
        """Points each lot held when earned (all of a lot is still there)."""
        return [lot.points for lot in lots]
