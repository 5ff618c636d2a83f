from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestRetentionSecurity(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group_user = cls.env.ref("retention_loyalty.group_retention_user")
        cls.group_manager = cls.env.ref("retention_loyalty.group_retention_manager")
        cls.retention_user = new_test_user(
            cls.env,
            login="rl_retention_only",
            groups="base.group_user,retention_loyalty.group_retention_user",
        )
        cls.salesman = new_test_user(
            cls.env, login="rl_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.sales_manager = new_test_user(
            cls.env, login="rl_sales_manager", groups="sales_team.group_sale_manager"
        )
        cls.menus = {
            name: cls.env.ref(f"retention_loyalty.{name}")
            for name in (
                "retention_menu_root",
                "retention_customer_stat_menu",
                "retention_customer_stat_at_risk_menu",
                "retention_segment_history_menu",
                "retention_customer_stat_matrix_menu",
                "retention_home_menu",
                "retention_model_fit_menu",
                "retention_configuration_menu",
                "retention_settings_menu",
                "retention_value_tier_menu",
                "loyalty_program_retention_menu",
            )
        }

    def _visible_menus(self, user):
        visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        return {name for name, menu in self.menus.items() if menu.id in visible}

    def test_groups_follow_the_sales_groups(self):
        self.assertIn(self.group_user, self.group_manager.implied_ids)
        self.assertTrue(self.salesman.has_group("retention_loyalty.group_retention_user"))
        self.assertFalse(self.salesman.has_group("retention_loyalty.group_retention_manager"))
        self.assertTrue(self.sales_manager.has_group("retention_loyalty.group_retention_manager"))
        self.assertFalse(self.retention_user.has_group("sales_team.group_sale_salesman"))
        self.assertTrue(
            self.env.ref("base.user_admin").has_group("retention_loyalty.group_retention_manager")
        )

    def test_menus_by_group(self):
        everyone = {
            "retention_menu_root",
            "retention_customer_stat_menu",
            "retention_customer_stat_at_risk_menu",
            "retention_segment_history_menu",
            "retention_customer_stat_matrix_menu",
            "retention_home_menu",
        }
        self.assertEqual(self._visible_menus(self.retention_user), everyone)
        self.assertEqual(self._visible_menus(self.salesman), everyone)
        self.assertEqual(
            self._visible_menus(self.sales_manager), set(self.menus) - {"retention_settings_menu"}
        )
        self.assertEqual(self._visible_menus(self.env.ref("base.user_admin")), set(self.menus))
        internal = new_test_user(self.env, login="rl_internal", groups="base.group_user")
        self.assertNotIn("retention_menu_root", self._visible_menus(internal))

    def test_retention_user_without_sales_rights(self):
        partner = self.env["res.partner"].create({"name": "Retention Customer"})
        order = self.env["sale.order"].create({"partner_id": partner.id})
        as_user = self.env(user=self.retention_user)
        self.assertEqual(as_user["res.partner"].browse(partner.id).name, "Retention Customer")
        with self.assertRaises(AccessError):
            as_user["sale.order"].browse(order.id).read(["name"])
        for model in ("sale.report", "loyalty.card", "loyalty.program"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                as_user[model].search([])
        with self.assertRaises(AccessError):
            as_user["loyalty.program"].create({"name": "Not mine", "program_type": "loyalty"})
        with self.assertRaises(AccessError):
            as_user["retention.value.tier"].create({"name": "VIP", "cutoff_percent": 50})
        with self.assertRaises(AccessError):
            as_user["retention.customer.stat"].create({"partner_id": partner.id})

    def test_salesman_reads_but_does_not_configure_loyalty(self):
        existing = self.env["loyalty.program"].create(
            {"name": "Shop points", "program_type": "loyalty"}
        )
        as_salesman = self.env(user=self.salesman)
        self.assertIn(existing, as_salesman["loyalty.program"].search([]))
        self.assertEqual(as_salesman["loyalty.program"].browse(existing.id).name, "Shop points")
        with self.assertRaises(AccessError):
            as_salesman["loyalty.program"].create({"name": "Not mine", "program_type": "loyalty"})
        as_manager = self.env(user=self.sales_manager)
        program = as_manager["loyalty.program"].create({"name": "Ok", "program_type": "loyalty"})
        self.assertEqual(program.program_type, "loyalty")
