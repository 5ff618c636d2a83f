from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, tagged

from odoo.addons.retention_loyalty.tests.common import make_playbook

TODAY = date(2026, 6, 30)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestDeliveryTriggers(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.product = cls.env["product.product"].create(
            {"name": "Delivered Beans", "type": "consu", "list_price": 12.0}
        )
        cls.customer, cls.other = cls.env["res.partner"].create(
            [{"name": "Delivery Customer"}, {"name": "Delivery Other"}]
        )

    def _delivery(self, partner, promised):
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "product_uom_qty": 2})
                ],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        self._promise(picking, promised)
        return order, picking

    def _promise(self, picking, day):
        """Promised (deadline) and planned for ``day``."""
        moment = datetime.combine(day, datetime.min.time())
        picking.move_ids.write({"date_deadline": moment, "date": moment})
        picking.scheduled_date = moment
        self.assertEqual(picking.date_deadline, moment)

    def _deliver(self, picking, day):
        with freeze_time(day):
            picking.move_ids.quantity = 2
            picking.button_validate()
        self.assertEqual(picking.state, "done")

    def test_a_delivery_late_by_more_than_n_days_triggers_once(self):
        playbook = make_playbook(self.env, "delivery_late", trigger_days=3)
        # Promised 4 days ago, still not delivered: late by more than 3 days today.
        late_order, _late = self._delivery(self.customer, TODAY - timedelta(days=4))
        # Promised 3 days ago: not yet more than 3 days late.
        self._delivery(self.other, TODAY - timedelta(days=3))
        self.assertEqual(playbook._candidates(TODAY), {self.customer.id: late_order.id})
        playbook._evaluate(TODAY)
        self.assertEqual(
            playbook._candidates(TODAY + timedelta(days=1)),
            {self.other.id: self.other.sale_order_ids.id},
            "the first once; the second becomes late tomorrow",
        )

    def test_a_delivery_made_in_time_or_by_deadline_is_not_late(self):
        playbook = make_playbook(self.env, "delivery_late", trigger_days=3)
        _order, picking = self._delivery(self.customer, TODAY - timedelta(days=4))
        self._deliver(picking, TODAY - timedelta(days=2))  # within the 3 days
        _order, postponed = self._delivery(self.other, TODAY - timedelta(days=4))
        self._promise(postponed, TODAY + timedelta(days=5))
        self.assertEqual(playbook._candidates(TODAY), {})

    def test_a_return_starts_the_playbook_with_its_order(self):
        playbook = make_playbook(self.env, "return_received")
        order, picking = self._delivery(self.customer, TODAY - timedelta(days=5))
        self._deliver(picking, TODAY - timedelta(days=5))
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=picking.id, active_model="stock.picking")
            .create({})
        )
        wizard.product_return_moves.quantity = 1
        returned = wizard._create_return()
        self.assertEqual(playbook._candidates(TODAY), {}, "not until the goods are back")
        returned.move_ids.quantity = 1
        returned.button_validate()
        self.assertEqual(playbook._candidates(TODAY), {self.customer.id: order.id})
        runs = playbook._evaluate(TODAY)
        self.assertEqual(runs.order_id, order)
        self.assertTrue(runs.activity_id)

    def test_deliveries_validated_late_and_returns_raise_the_risk_open_ones_do_not(self):
        Stat = self.env["retention.customer.stat"]
        company = self.env.company
        _order, picking = self._delivery(self.customer, TODAY - timedelta(days=10))
        self.assertEqual(Stat._service_signals(company, [self.customer.id], TODAY), {})
        self._deliver(picking, TODAY - timedelta(days=8))  # two days late
        self.assertEqual(
            Stat._service_signals(company, [self.customer.id], TODAY),
            {self.customer.id: ("delivery_late", TODAY - timedelta(days=10))},
        )
        _order, on_time = self._delivery(self.other, TODAY - timedelta(days=10))
        self._deliver(on_time, TODAY - timedelta(days=9))  # the next day: in time
        self.assertEqual(Stat._service_signals(company, [self.other.id], TODAY), {})
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=on_time.id, active_model="stock.picking")
            .create({})
        )
        wizard.product_return_moves.quantity = 1
        returned = wizard._create_return()
        returned.move_ids.quantity = 1
        returned.button_validate()
        self.assertEqual(
            Stat._service_signals(company, [self.other.id], TODAY),
            {self.other.id: ("goods_returned", TODAY)},
        )
