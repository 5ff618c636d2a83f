from datetime import date

from lxml import etree

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import make_product


@tagged("post_install", "-at_install")
class TestScreens(TransactionCase):
    """What the screens show: playbook reach, the value x risk matrix, the
    customer's subscriptions, and views that load for each role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.tiers = cls.env["retention.value.tier"]._ensure_company_tiers(cls.company)
        cls.salesman = new_test_user(
            cls.env, login="rl_screens_sales", groups="sales_team.group_sale_salesman"
        )
        cls.other_salesman = new_test_user(
            cls.env, login="rl_screens_other", groups="sales_team.group_sale_salesman"
        )
        cls.admin = new_test_user(
            cls.env,
            login="rl_screens_admin",
            groups="sales_team.group_sale_manager,retention_loyalty.group_retention_manager",
        )
        cls.call = cls.env.ref("mail.mail_activity_data_call")
        # Customers as (tier, risk, salesperson, country); only some pass every filter.
        belgium = cls.env.ref("base.be")
        profiles = [
            ("A", "high", cls.salesman, belgium),  # reached
            ("A", "high", cls.salesman, belgium),  # reached
            ("A", "high", cls.salesman, False),  # outside the customer filter
            ("A", "high", cls.other_salesman, belgium),  # another salesperson
            ("A", "low", cls.salesman, belgium),  # another risk
            ("B", "high", cls.salesman, belgium),  # another tier
            ("C", "medium", cls.other_salesman, False),
            ("C", "lost", cls.other_salesman, False),
        ]
        tier_by_name = {tier.name: tier for tier in cls.tiers}
        cls.customers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Screens customer {index}",
                    "user_id": user.id,
                    "country_id": country and country.id,
                }
                for index, (_tier, _risk, user, country) in enumerate(profiles)
            ]
        )
        cls.env["retention.customer.stat"].search([("company_id", "=", cls.company.id)]).unlink()
        cls.env["retention.customer.stat"].create(
            [
                {
                    "partner_id": customer.id,
                    "company_id": cls.company.id,
                    "value_tier_id": tier_by_name[tier].id,
                    "risk_level": risk,
                    "user_id": user.id,
                }
                for customer, (tier, risk, user, _country) in zip(
                    cls.customers, profiles, strict=True
                )
            ]
        )

    def _playbook(self, **values):
        return self.env["retention.playbook"].create(
            {
                "name": "Call A customers at high risk",
                "trigger": "no_contact",
                "control_percent": 0,
                "action_ids": [
                    Command.create(
                        {"kind": "activity", "activity_type_id": self.call.id, "deadline_days": 2}
                    )
                ],
                **values,
            }
        )

    # ------------------------------------------------------------------ playbooks

    def test_ready_made_best_customer_playbooks_have_the_top_tier(self):
        top_tier = self.tiers[:1]
        self.assertEqual(top_tier.name, "A")
        xmlids = [
            "retention_loyalty.playbook_a_tier_cadence",
            "retention_loyalty.playbook_high_value_at_risk",
            "retention_loyalty_event.playbook_seminar_invitation",
        ]
        for xmlid in xmlids:
            playbook = self.env.ref(xmlid, raise_if_not_found=False)
            if playbook is None:  # the event bridge is not installed
                continue
            with self.subTest(playbook=xmlid):
                self.assertEqual(playbook.value_tier_ids, top_tier)
        # A ready-made playbook an administrator changed is left alone on update.
        cadence = self.env.ref("retention_loyalty.playbook_a_tier_cadence")
        cadence.value_tier_ids = self.tiers[1:2]
        self.env["retention.playbook"]._apply_top_value_tier(cadence.ids)
        self.assertEqual(cadence.value_tier_ids, self.tiers[1:2])

    def test_reach_counts_every_filter(self):
        playbook = self._playbook()
        self.assertEqual(playbook.reach_count, len(self.customers), "no filter: every customer")
        playbook.value_tier_ids = self.tiers[:1]
        self.assertEqual(playbook.reach_count, 5)
        playbook.risk_level = "high"
        self.assertEqual(playbook.reach_count, 4)
        playbook.salesperson_ids = self.salesman
        self.assertEqual(playbook.reach_count, 3)
        playbook.partner_domain = f"[('country_id', '=', {self.env.ref('base.be').id})]"
        self.assertEqual(playbook.reach_count, 2)
        # The count is the customers a run picks: the same matching code.
        matched = self.env["retention.playbook"]._matching_partners(
            {playbook: set(self.customers.ids)}
        )[playbook]
        self.assertEqual(matched, set(self.customers[:2].ids))
        club = self.env["retention.club"].create({"name": "Screens club", "policy": "invitation"})
        self.env["retention.club.membership"].create(
            {"partner_id": self.customers[0].id, "club_id": club.id}
        )
        playbook.club_ids = club
        self.assertEqual(playbook.reach_count, 1)

    def test_reach_count_of_an_unsaved_playbook(self):
        """The form shows the reach while the filters are edited."""
        playbook = self.env["retention.playbook"].new(
            {
                "name": "Draft",
                "trigger": "no_contact",
                "value_tier_ids": [Command.set(self.tiers[2:3].ids)],
            }
        )
        self.assertEqual(playbook.reach_count, 2)

    # ------------------------------------------------------------------ matrix

    def test_risk_groups_in_risk_order(self):
        Stat = self.env["retention.customer.stat"].with_user(self.admin)
        groups = Stat._read_group([("id", "in", Stat.search([]).ids)], ["risk_level"], ["__count"])
        self.assertEqual(
            groups, [("low", 1), ("medium", 1), ("high", 5), ("lost", 1)], "not alphabetical"
        )
        # The matrix (pivot) reads tiers x risks, with the number of customers.
        cells = Stat.read_group([], ["__count"], ["value_tier_id", "risk_level"], lazy=False)
        self.assertEqual(
            [(cell["value_tier_id"][1], cell["risk_level"], cell["__count"]) for cell in cells],
            [
                ("A", "low", 1),
                ("A", "high", 4),
                ("B", "high", 1),
                ("C", "medium", 1),
                ("C", "lost", 1),
            ],
        )
        matrix = self.env.ref("retention_loyalty.retention_customer_stat_action_matrix")
        self.assertEqual(
            safe_eval(matrix.context)["pivot_measures"][0], "__count", "customers per cell"
        )

    # ------------------------------------------------------------------ customer form

    def test_customer_subscriptions_button(self):
        coffee = make_product(self.env, "Screens coffee", 12.0)
        customer, other = self.customers[:2]
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": customer.id})
        Subscription = self.env["retention.subscription"].with_user(self.salesman)
        subscriptions = Subscription.create(
            [
                {
                    "partner_id": partner.id,
                    "date_start": date(2026, 1, 1),
                    "line_ids": [Command.create({"product_id": coffee.id, "price_unit": 12.0})],
                }
                for partner in (customer, customer, other)
            ]
        )
        as_salesman = (customer | contact | other).with_user(self.salesman)
        self.assertEqual(as_salesman.mapped("retention_subscription_count"), [2, 2, 1])
        action = as_salesman[1].action_view_retention_subscriptions()
        self.assertEqual(
            Subscription.search(action["domain"]), subscriptions[:2], "the customer's subscriptions"
        )
        self.assertEqual(action["context"]["default_partner_id"], customer.id)
        self.assertEqual(as_salesman[0].retention_subscription_ids, subscriptions[:2])

    # ------------------------------------------------------------------ views

    def _arch(self, user, action_xmlid, view_type):
        action = self.env.ref(action_xmlid)
        model = self.env[action.res_model].with_user(user)
        views = [
            (action.view_id.id if kind == action.view_id.type else False, kind)
            for kind in action.view_mode.split(",")
        ]
        result = model.get_views(views, {"search_view_id": False})
        return etree.fromstring(result["views"][view_type]["arch"])

    def test_views_load_for_each_role(self):
        actions = [
            "retention_loyalty.retention_customer_stat_action_matrix",
            "retention_loyalty.retention_customer_stat_action",
            "retention_loyalty.retention_playbook_action",
            "retention_loyalty.mail_activity_action_retention_followups",
            "retention_loyalty.retention_subscription_action",
        ]
        admin_actions = [
            "retention_loyalty.retention_points_liability_action",
            "retention_loyalty.retention_customer_month_action",
            "retention_loyalty.retention_customer_month_action_cohort",
            "retention_loyalty.retention_subscription_month_action",
        ]
        for user, xmlids in ((self.admin, actions + admin_actions), (self.salesman, actions)):
            for xmlid in xmlids:
                action = self.env.ref(xmlid)
                for view_type in action.view_mode.split(","):
                    with self.subTest(user=user.login, action=xmlid, view=view_type):
                        self.assertIsNotNone(self._arch(user, xmlid, view_type))

    def test_salesperson_sees_plain_words(self):
        stat_action = "retention_loyalty.retention_customer_stat_action"
        admin_form = self._arch(self.admin, stat_action, "form")
        sales_form = self._arch(self.salesman, stat_action, "form")
        self.assertTrue(admin_form.xpath("//field[@name='method']"))
        self.assertFalse(sales_form.xpath("//field[@name='method']"), "administrators only")
        labels = dict(
            self.env["retention.customer.stat"]
            .with_user(self.salesman)
            .fields_get(["method"], ["selection"])["method"]["selection"]
        )
        self.assertNotIn("BG/NBD", " ".join(labels.values()))
        self.assertEqual(
            sales_form.xpath("//field[@name='p_alive']/@digits"), ["[16, 1]"], "16.1 %, not 16.1002"
        )
        followups = self._arch(
            self.salesman, "retention_loyalty.mail_activity_action_retention_followups", "list"
        )
        stake = followups.xpath("//field[@name='retention_value_at_stake']")[0]
        self.assertEqual(stake.get("widget"), "monetary")

    def test_customer_and_order_forms(self):
        partner_form = etree.fromstring(
            self.env["res.partner"]
            .with_user(self.salesman)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        memberships = partner_form.xpath("//field[@name='retention_club_membership_ids']/list")[0]
        self.assertEqual(memberships.get("delete"), "0", "Cancel Membership, not the bin")
        self.assertTrue(partner_form.xpath("//button[@name='action_view_retention_subscriptions']"))
        order_form = etree.fromstring(
            self.env["sale.order"]
            .with_user(self.salesman)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        badges = order_form.xpath("//field[@name='retention_value_tier_id']/..")[0]
        self.assertEqual([span.text for span in badges.iter("span")], ["Tier", "Club", "Risk"])
