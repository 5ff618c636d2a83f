import random
import threading
import time

from odoo import SUPERUSER_ID, Command, api
from odoo.service.model import (
    MAX_TRIES_ON_CONCURRENCY_FAILURE,
    PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
)
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import make_points_program

ORDERS_PER_WORKER = 3
ORDER_AMOUNT = 200.0


@tagged("post_install", "-at_install")
class TestConfirmConcurrency(TransactionCase):
    """Two workers confirm orders at the same time, each in its own thread and
    database transaction, retried on concurrency errors as Odoo retries an RPC
    request: with a points program, a club ladder and an active order
    playbook, every confirmation goes through and the ledger, the club levels
    and the playbook log are exact afterwards."""

    def _new_env(self, uid=SUPERUSER_ID):
        cursor = self.registry.cursor()
        self.addCleanup(cursor.close)
        return api.Environment(cursor, uid, {"tracking_disable": True})

    def setUp(self):
        super().setUp()
        env = self._new_env()
        company = env.company
        self.program = make_points_program(
            env,
            "Concurrent Points",
            {"discount_mode": "per_order", "discount": 10, "required_points": 100},
            company_id=company.id,
        )
        self.ladder = env["retention.club.ladder"].create(
            {"name": "Concurrent Ladder", "company_id": company.id}
        )
        self.silver, self.gold = env["retention.club"].create(
            [
                {
                    "name": name,
                    "company_id": company.id,
                    "ladder_id": self.ladder.id,
                    "sequence": sequence,
                    "policy": "qualified",
                    "qualification_measure": "revenue",
                    "qualification_threshold": threshold,
                }
                for sequence, name, threshold in ((1, "C-Silver", 300.0), (2, "C-Gold", 1000.0))
            ]
        )
        self.playbook = env["retention.playbook"].create(
            {
                "name": "Thank every order (concurrency)",
                "company_id": company.id,
                "trigger": "order_confirmed",
                "order_mode": "every",
                "cooldown_days": 0,
                "control_percent": 0.0,
                "action_ids": [
                    Command.create(
                        {
                            "kind": "activity",
                            "activity_type_id": env.ref("mail.mail_activity_data_todo").id,
                        }
                    )
                ],
            }
        )
        self.seller = env["res.users"].create(
            {
                "name": "Concurrent Seller",
                "login": "rl_concurrent_seller",
                "groups_id": [Command.set(env.ref("sales_team.group_sale_salesman").ids)],
            }
        )
        self.product = env["product.product"].create(
            {
                "name": "Concurrent Coffee",
                "type": "service",
                "list_price": ORDER_AMOUNT,
                "taxes_id": False,
            }
        )
        self.customers = env["res.partner"].create(
            [{"name": f"Concurrent Customer {n}", "user_id": self.seller.id} for n in (1, 2)]
        )
        self.orders = env["sale.order"].create(
            [
                {
                    "partner_id": customer.id,
                    "user_id": self.seller.id,
                    "order_line": [
                        Command.create({"product_id": self.product.id, "tax_id": [Command.clear()]})
                    ],
                }
                for customer in self.customers
                for _n in range(2 * ORDERS_PER_WORKER)
            ]
        )
        env.cr.commit()
        self.addCleanup(self._remove)

    def _remove(self):
        env = self._new_env()
        cr = env.cr
        partner_ids = tuple(self.customers.ids)
        cr.execute("DELETE FROM retention_playbook_run WHERE playbook_id = %s", [self.playbook.id])
        cr.execute(
            "DELETE FROM mail_activity WHERE res_model = 'res.partner' AND res_id IN %s",
            [partner_ids],
        )
        cr.execute("DELETE FROM retention_club_membership WHERE partner_id IN %s", [partner_ids])
        cr.execute(
            "DELETE FROM retention_points_entry WHERE card_id IN "
            "(SELECT id FROM loyalty_card WHERE program_id = %s)",
            [self.program.id],
        )
        cr.execute(
            "DELETE FROM loyalty_history WHERE card_id IN "
            "(SELECT id FROM loyalty_card WHERE program_id = %s)",
            [self.program.id],
        )
        cr.execute("DELETE FROM sale_order WHERE id IN %s", [tuple(self.orders.ids)])
        cr.execute("DELETE FROM loyalty_card WHERE program_id = %s", [self.program.id])
        cr.execute("DELETE FROM retention_customer_stat WHERE partner_id IN %s", [partner_ids])
        env["retention.playbook"].browse(self.playbook.id).unlink()
        env["retention.club"].browse((self.silver | self.gold).ids).unlink()
        env["retention.club.ladder"].browse(self.ladder.id).unlink()
        program = env["loyalty.program"].browse(self.program.id)
        program.active = False
        program.unlink()
        env["product.product"].browse(self.product.id).unlink()
        env["res.partner"].browse(self.customers.ids).unlink()
        env["res.users"].browse(self.seller.id).unlink()
        # The committed test data is removed for good.
        cr.commit()  # pylint: disable=invalid-commit

    def _confirm_in_two_workers(self, batches):
        """Each batch of order ids is confirmed by its own worker, one order
        per transaction, starting together. Returns the errors that reached
        the user (after Odoo's retries)."""
        start = threading.Barrier(len(batches))
        errors = []
        # Environments are made here: Odoo's test runner holds the registry
        # lock in the main thread while the tests run.
        envs = [self._new_env(self.seller.id) for _batch in batches]

        def work(env, order_ids):
            start.wait()
            for order_id in order_ids:
                try:
                    confirm_as_a_request(env, order_id)
                except Exception as error:  # what the client would see
                    errors.append(f"order {order_id}: {error!r}")

        workers = [
            threading.Thread(target=work, args=(env, batch))
            for env, batch in zip(envs, batches, strict=True)
        ]
        with mute_logger("odoo.service.model", "odoo.sql_db"):
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=300)
        self.assertFalse(any(worker.is_alive() for worker in workers), "a worker hung")
        return errors

    def _check_outcome(self):
        env = self._new_env()
        orders = env["sale.order"].browse(self.orders.ids)
        confirmed = orders.filtered(lambda order: order.state == "sale")
        self.assertEqual(confirmed, orders, "every order is confirmed")
        for customer in env["res.partner"].browse(self.customers.ids):
            own_orders = confirmed.filtered(lambda order, c=customer: order.partner_id == c)
            card = env["loyalty.card"].search(
                [("program_id", "=", self.program.id), ("partner_id", "=", customer.id)]
            )
            self.assertEqual(len(card), 1, "one card per customer")
            entries = env["retention.points.entry"].search([("card_id", "=", card.id)])
            expected = ORDER_AMOUNT * len(own_orders)
            self.assertEqual(card.points, expected)
            self.assertEqual(sum(entries.mapped("points")), expected, "balance == ledger")
            self.assertEqual(sum(entries.mapped("remaining")), expected)
            self.assertEqual(
                sorted(entries.mapped("order_id").ids), sorted(own_orders.ids), "one lot per order"
            )
            # The first order's follow-up stays open: the later orders are
            # deduplicated against it, whichever worker confirmed them.
            runs = env["retention.playbook.run"].search(
                [("playbook_id", "=", self.playbook.id), ("partner_id", "=", customer.id)]
            )
            self.assertEqual(runs.mapped("state"), ["open"], "one follow-up per customer")
            self.assertIn(runs.order_id, own_orders)
            self.assertEqual(
                env["mail.activity"].search_count(
                    [("res_model", "=", "res.partner"), ("res_id", "=", customer.id)]
                ),
                1,
            )
            memberships = env["retention.club.membership"].search(
                [
                    ("partner_id", "=", customer.id),
                    ("ladder_id", "=", self.ladder.id),
                    ("state", "in", ("active", "grace")),
                ]
            )
            revenue = ORDER_AMOUNT * len(own_orders)
            expected_club = self.gold if revenue >= 1000.0 else self.silver
            self.assertEqual(memberships.club_id, expected_club, "one current level")

    def test_different_customers_at_the_same_time(self):
        first, second = (
            self.orders.filtered(lambda order, c=customer: order.partner_id == c).ids
            for customer in self.customers
        )
        errors = self._confirm_in_two_workers([first, second])
        self.assertEqual(errors, [])
        self._check_outcome()

    def test_same_customer_at_the_same_time(self):
        own = self.orders.filtered(lambda order: order.partner_id == self.customers[0]).ids
        other = self.orders.filtered(lambda order: order.partner_id == self.customers[1]).ids
        # The first order gives the customer their card (two first orders at
        # the same instant make two cards in plain Odoo too).
        self.assertEqual(self._confirm_in_two_workers([own[:1]]), [])
        errors = self._confirm_in_two_workers([own[1::2], own[2::2]])
        self.assertEqual(errors, [])
        # The other customer's orders, one worker: everything adds up the same.
        self.assertEqual(self._confirm_in_two_workers([other]), [])
        self._check_outcome()


def confirm_as_a_request(env, order_id):
    """Confirm in its own transaction and retry on the errors Odoo's RPC layer
    retries (odoo.service.model.retrying, whose registry reset would wait for
    the lock Odoo's test runner holds)."""
    for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
        try:
            env["sale.order"].browse(order_id).action_confirm()
            env.cr.flush()
            env.cr.commit()
            return
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            env.cr.rollback()
            env.invalidate_all()
            if attempt == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                raise
            time.sleep(random.uniform(0.0, 0.2 * attempt))
        except Exception:
            env.cr.rollback()
            raise
