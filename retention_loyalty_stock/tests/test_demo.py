from collections import Counter

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

from odoo.addons.retention_loyalty_stock.models.retention_demo_generator import (
    DEMO_LATE_DELIVERED,
    DEMO_LATE_WAITING,
)


@tagged("post_install", "-at_install")
class TestStockDemo(TransactionCase):
    """The demo's late deliveries, after the core's demo data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(freeze_time("2026-03-18 09:00:00"))
        generator = cls.env["retention.demo.generator"]
        generator._generate_demo_data()
        cls.generated = generator._generate_stock_demo_data()

    def test_late_deliveries_raise_risk_and_the_apology_playbook_calls(self):
        self.assertTrue(self.generated)
        stats = self.env["retention.customer.stat"].search(
            [("service_signal", "=", "delivery_late")]
        )
        self.assertEqual(len(stats), DEMO_LATE_DELIVERED)
        self.assertEqual(set(stats.mapped("risk_level")), {"medium"})
        playbook = self.env.ref("retention_loyalty_stock.playbook_delivery_late")
        self.assertTrue(playbook.active)
        states = Counter(playbook.run_ids.mapped("state"))
        self.assertEqual(states.total(), DEMO_LATE_WAITING)
        self.assertTrue(playbook.run_ids.activity_id, "someone calls to apologise")
        # Once only.
        self.assertFalse(self.env["retention.demo.generator"]._generate_stock_demo_data())
