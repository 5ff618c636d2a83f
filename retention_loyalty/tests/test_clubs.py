from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import inventory_queries, make_order, make_points_program, make_product


class ClubCase(TransactionCase):
    """A Silver / Gold / Platinum ladder on revenue over the last 365 days,
    with 30 days of grace, and a paid coffee club."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.product = make_product(cls.env, "Club Coffee", 100.0)
        cls.ladder = cls.env["retention.club.ladder"].create({"name": "Levels"})
        cls.silver, cls.gold, cls.platinum = cls.env["retention.club"].create(
            [
                {
                    "name": name,
                    "ladder_id": cls.ladder.id,
                    "sequence": sequence,
                    "qualification_threshold": threshold,
                    "window_days": 365,
                    "grace_days": 30,
                }
                for name, sequence, threshold in (
                    ("Silver", 1, 500.0),
                    ("Gold", 2, 2000.0),
                    ("Platinum", 3, 5000.0),
                )
            ]
        )
        cls.membership_product = make_product(cls.env, "Coffee Club year", 50.0)
        cls.paid_club = cls.env["retention.club"].create(
            {
                "name": "Coffee Club",
                "policy": "paid",
                "product_id": cls.membership_product.id,
                "duration_months": 12,
                "renewal_days": 30,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Club Customer", "email": "club@example.com"}
        )
        cls.Membership = cls.env["retention.club.membership"]

    @classmethod
    def _points_program(cls, name):
        """A loyalty program earning one point per unit of currency."""
        return make_points_program(cls.env, name)

    def _order(self, amount, day=None, partner=None, product=None, confirm=True):
        return make_order(
            self.env, partner or self.customer, product or self.product, amount, day, confirm
        )

    def _current(self, partner=None):
        return self.Membership.search(
            [
                ("partner_id", "=", (partner or self.customer).id),
                ("state", "in", ("active", "grace")),
            ]
        )

    def _daily(self):
        self.company.retention_club_last_run = False
        self.Membership._cron_daily()


@tagged("post_install", "-at_install")
class TestClubQualification(ClubCase):
    @freeze_time("2026-06-01")
    def test_confirming_an_order_upgrades_at_once(self):
        self._order(400.0, day=date(2026, 3, 1))
        self.assertFalse(self._current())
        self._order(200.0)
        self.assertEqual(self._current().club_id, self.silver)
        self._order(1500.0)
        self.assertRecordValues(
            self._current(), [{"club_id": self.gold.id, "origin": "qualified", "state": "active"}]
        )
        silver = self.Membership.search(
            [("partner_id", "=", self.customer.id), ("club_id", "=", self.silver.id)]
        )
        self.assertRecordValues(silver, [{"state": "expired", "date_end": date(2026, 6, 1)}])
        welcome = self.env["mail.mail"].search(
            [("model", "=", "retention.club.membership"), ("res_id", "=", self._current().id)]
        )
        self.assertIn("Gold", welcome.subject)

    def test_downgrade_only_after_the_grace_period(self):
        with freeze_time("2026-01-10"):
            self._order(2500.0, day=date(2026, 1, 10))
            self._daily()
            gold = self._current()
            self.assertEqual(gold.club_id, self.gold)
        with freeze_time("2027-01-11"):  # the order left the 365-day window
            self._daily()
            self.assertRecordValues(gold, [{"state": "grace", "grace_until": date(2027, 2, 10)}])
        with freeze_time("2027-02-01"):
            self._daily()
            self.assertEqual(gold.state, "grace")
        with freeze_time("2027-02-10"):
            self._order(600.0, day=date(2027, 2, 9))
            self._daily()
            self.assertRecordValues(gold, [{"state": "expired", "date_end": date(2027, 2, 10)}])
            self.assertEqual(self._current().club_id, self.silver)

    def test_buying_again_during_grace_keeps_the_level(self):
        with freeze_time("2026-01-10"):
            self._order(2500.0, day=date(2026, 1, 10))
            self._daily()
        with freeze_time("2027-01-11"):
            self._daily()
            self.assertEqual(self._current().state, "grace")
            self._order(2100.0)
            self.assertRecordValues(
                self._current(),
                [{"club_id": self.gold.id, "state": "active", "grace_until": False}],
            )

    @freeze_time("2026-06-01")
    def test_refund_below_threshold_moves_down_only_through_grace(self):
        self.company.retention_revenue_source = "invoices"
        order = self._order(2500.0)
        invoice = order._create_invoices()
        invoice.action_post()
        self._daily()
        self.assertEqual(self._current().club_id, self.gold)
        refund = invoice._reverse_moves()
        refund.invoice_line_ids.price_unit = 1000.0
        refund.action_post()
        self._daily()
        self.assertRecordValues(self._current(), [{"club_id": self.gold.id, "state": "grace"}])

    @freeze_time("2026-06-01")
    def test_contacts_count_at_their_company(self):
        company_partner = self.env["res.partner"].create({"name": "Club Corp", "is_company": True})
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": company_partner.id})
        self._order(300.0, partner=contact)
        self._order(300.0, partner=company_partner)
        self.assertEqual(self._current(company_partner).club_id, self.silver)
        membership = self.Membership.create(
            {"partner_id": contact.id, "club_id": self.paid_club.id}
        )
        self.assertEqual(membership.partner_id, company_partner)

    @freeze_time("2026-06-01")
    def test_confirmation_queries_do_not_grow_with_history(self):
        """The confirmation's query budget with everything that hooks into it:
        points earned, club levels and a playbook following the order up."""
        program = self._points_program("Club points")
        self.env["retention.playbook"].create(
            {
                "name": "Thank every order",
                "trigger": "order_confirmed",
                "order_mode": "every",
                "cooldown_days": 0,
                "control_percent": 0,
                "action_ids": [
                    Command.create(
                        {
                            "kind": "activity",
                            "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                            "deadline_days": 2,
                            "note": "<p>Thank {customer}</p>",
                        }
                    )
                ],
            }
        )
        short = self.env["res.partner"].create({"name": "Short history"})
        long = self.env["res.partner"].create({"name": "Long history"})
        warm = self.env["res.partner"].create({"name": "Warm-up"})
        self._order(100.0, day=date(2026, 5, 1), partner=short)
        for days in range(1, 40):
            self._order(10.0, day=date(2026, 5, 1) - timedelta(days=days), partner=long)
        counts = []
        # One query per activity playbook reads the points about to expire; one
        # statement records the incentive costs and line costs of the order.
        confirm_budget = 78 + inventory_queries(self.env)
        for partner, budget in ((warm, None), (short, confirm_budget), (long, confirm_budget)):
            order = self._order(600.0, partner=partner, confirm=False)
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            if budget is None:  # warms the caches up
                order.action_confirm()
            else:
                with self.assertQueryCount(budget):
                    before = self.env.cr.sql_log_count
                    order.action_confirm()
                    self.env.flush_all()
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(counts[1], counts[2])
        self.assertEqual(self._current(long).club_id, self.silver)
        cards = self.env["loyalty.card"].search([("program_id", "=", program.id)])
        self.assertEqual(cards.partner_id, warm | short | long)
        self.assertEqual(cards.filtered(lambda card: card.partner_id == long).points, 600.0)
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("res_model", "=", "res.partner"), ("res_id", "in", (warm | short | long).ids)]
            ),
            3,
        )


@tagged("post_install", "-at_install")
class TestPaidClubs(ClubCase):
    def test_paid_enrolment_and_renewal(self):
        with freeze_time("2026-03-01"):
            order = self._order(50.0, product=self.membership_product)
            membership = self._current().filtered(lambda m: m.club_id == self.paid_club)
            self.assertRecordValues(
                membership,
                [
                    {
                        "state": "active",
                        "origin": "purchase",
                        "order_id": order.id,
                        "date_start": date(2026, 3, 1),
                        "date_end": date(2027, 2, 28),
                    }
                ],
            )
        with freeze_time("2027-02-01"):
            self._daily()
            renewal = membership.renewal_order_id
            self.assertEqual(renewal.order_line.product_id, self.membership_product)
            self.assertEqual(renewal.state, "draft")
            self.assertEqual(membership.activity_ids.date_deadline, date(2027, 2, 28))
            self._daily()  # a second run creates nothing more
            self.assertEqual(
                self.env["sale.order"].search_count([("origin", "=", membership.display_name)]), 1
            )
            renewal.action_confirm()
            successor = self.Membership.search(
                [("order_id", "=", renewal.id), ("club_id", "=", self.paid_club.id)]
            )
            self.assertRecordValues(
                successor, [{"state": "pending", "date_start": date(2027, 3, 1)}]
            )
        with freeze_time("2027-03-01"):
            self._daily()
            self.assertEqual(membership.state, "expired")
            self.assertEqual(successor.state, "active")

    @freeze_time("2026-03-01")
    def test_membership_waits_for_payment_when_configured(self):
        self.paid_club.start_on = "paid"
        self.membership_product.invoice_policy = "order"
        order = self._order(50.0, product=self.membership_product)
        membership = self.Membership.search([("order_id", "=", order.id)])
        self.assertRecordValues(membership, [{"state": "pending", "awaiting_payment": True}])
        invoice = order._create_invoices()
        invoice.action_post()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertRecordValues(membership, [{"state": "active", "awaiting_payment": False}])

    def test_cancel_needs_a_reason_and_ends_the_membership(self):
        membership = self.Membership.create(
            {"partner_id": self.customer.id, "club_id": self.paid_club.id}
        )
        wizard = self.env["retention.club.cancel.wizard"].create(
            {"membership_ids": [Command.set(membership.ids)], "reason": "  "}
        )
        with self.assertRaises(UserError):
            wizard.action_apply()
        wizard.reason = "Moved abroad"
        wizard.action_apply()
        self.assertRecordValues(
            membership, [{"state": "cancelled", "cancel_reason": "Moved abroad"}]
        )


@tagged("post_install", "-at_install")
class TestClubPerks(ClubCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["product.pricelist"].create({"name": "Standard", "sequence": 1})
        cls.member_pricelist = cls.env["product.pricelist"].create(
            {"name": "Members", "sequence": 100}
        )
        cls.points_program = cls._points_program("Club Points")
        cls.member_promo = cls.env["loyalty.program"].create(
            {
                "name": "Members 10%",
                "program_type": "promotion",
                "trigger": "auto",
                "applies_on": "current",
                "rule_ids": [Command.create({"minimum_amount": 0})],
                "reward_ids": [
                    Command.create(
                        {"reward_type": "discount", "discount": 10, "discount_mode": "percent"}
                    )
                ],
            }
        )
        cls.paid_club.write(
            {
                "pricelist_id": cls.member_pricelist.id,
                "points_multiplier": 2.0,
                "program_ids": [Command.set(cls.member_promo.ids)],
            }
        )

    def _promo_coupon(self, order):
        """The coupon through which the member promotion could be claimed."""
        claimable = order._get_claimable_rewards()
        return next(
            (
                coupon
                for coupon, rewards in claimable.items()
                if self.member_promo.reward_ids & rewards
            ),
            self.env["loyalty.card"],
        )

    def _quotation(self):
        order = self._order(100.0, confirm=False)
        order._update_programs_and_rewards()
        return order

    def test_perks_apply_to_members_and_stop_when_membership_ends(self):
        membership = self.Membership.create(
            {"partner_id": self.customer.id, "club_id": self.paid_club.id}
        )
        order = self._quotation()
        self.assertEqual(order.pricelist_id, self.member_pricelist)
        self.assertIn(self.paid_club, order.retention_club_ids)
        coupon = self._promo_coupon(order)
        self.assertEqual(coupon.program_id, self.member_promo)
        order._apply_program_reward(self.member_promo.reward_ids, coupon)
        self.assertEqual(self.customer._retention_points_multiplier(self.company), 2.0)
        order.action_confirm()
        card = self.env["loyalty.card"].search(
            [("partner_id", "=", self.customer.id), ("program_id", "=", self.points_program.id)]
        )
        self.assertEqual(card.points, 180)  # (100 - 10 % member discount) x 2

        membership._cancel("Test over")
        later = self._quotation()
        self.assertNotEqual(later.pricelist_id, self.member_pricelist)
        self.assertFalse(self._promo_coupon(later))
        self.assertEqual(self.customer._retention_points_multiplier(self.company), 1.0)

    def test_portal_shows_level_and_next_level(self):
        with freeze_time("2026-06-01"):
            self._order(700.0)
            portal_user = new_test_user(
                self.env,
                login="rl_club_portal",
                groups="base.group_portal",
                partner_id=self.customer.id,
            )
            html = str(
                self.env["ir.qweb"]._render(
                    "portal.side_content", {"user_id": portal_user, "sales_user": False}
                )
            )
        self.assertIn("Silver", html)
        self.assertIn("o_retention_next_level", html)
        self.assertIn("1,300.00", html)  # Gold needs 2,000
        self.assertIn("Gold", html)


@tagged("post_install", "-at_install")
class TestClubRules(ClubCase):
    def test_bad_configuration_is_refused(self):
        with self.assertRaises(ValidationError):
            self.gold.qualification_threshold = 400.0  # below Silver
        with self.assertRaises(ValidationError):
            self.silver.write({"window_days": 0})
        with self.assertRaises(ValidationError):
            self.env["retention.club"].create({"name": "No product", "policy": "paid"})
        with self.assertRaises(ValidationError):
            self.env["retention.club"].create({"name": "Negative", "qualification_threshold": -5})

    @freeze_time("2026-06-01")
    def test_one_level_of_a_ladder_at_a_time(self):
        self._order(600.0)
        self.assertEqual(self._current().club_id, self.silver)
        with self.assertRaises(ValidationError):
            self.Membership.create(
                {"partner_id": self.customer.id, "club_id": self.gold.id, "origin": "invitation"}
            )
        with self.assertRaises(UserError):
            self.silver.active = False
        self.assertTrue(self.silver.active)

    @freeze_time("2026-06-01")
    def test_salespeople_see_their_customers_and_companies_stay_apart(self):
        salesman = new_test_user(
            self.env, login="rl_club_salesman", groups="sales_team.group_sale_salesman"
        )
        other = self.env["res.partner"].create(
            {"name": "Other's customer", "user_id": self.env.uid}
        )
        self.customer.user_id = salesman
        self._order(600.0)
        self._order(600.0, partner=other)
        visible = self.Membership.with_user(salesman).search([])
        self.assertEqual(visible.partner_id, self.customer)
        with self.assertRaises(AccessError):
            self.env["retention.club"].with_user(salesman).create({"name": "Mine"})
        other_company = self.env["res.company"].create({"name": "Other Club Co"})
        outsider = new_test_user(
            self.env,
            login="rl_club_outsider",
            groups="sales_team.group_sale_manager",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.assertFalse(self.Membership.with_user(outsider).search([]))
        self.assertFalse(self.env["retention.club"].with_user(outsider).search([]))

    @freeze_time("2026-06-01")
    def test_manual_enrolment_follows_the_club_policy(self):
        salesman = new_test_user(
            self.env, login="rl_club_enrol_salesman", groups="sales_team.group_sale_salesman"
        )
        retention_only = new_test_user(
            self.env,
            login="rl_club_enrol_user",
            groups="base.group_user,retention_loyalty.group_retention_user",
        )
        retention_admin = new_test_user(
            self.env,
            login="rl_club_enrol_admin",
            groups="base.group_user,retention_loyalty.group_retention_manager",
        )
        self.customer.user_id = salesman
        free_club, invitation_club = self.env["retention.club"].create(
            [
                {"name": "Tasting Club", "policy": "free"},
                {"name": "Friends of the Roastery", "policy": "invitation"},
            ]
        )
        as_salesman = self.Membership.with_user(salesman)
        for club, origin in (
            (self.paid_club, "invitation"),
            (self.silver, "invitation"),
            (free_club, "purchase"),
        ):
            with self.subTest(club=club.name, origin=origin), self.assertRaises(AccessError):
                as_salesman.create(
                    {"partner_id": self.customer.id, "club_id": club.id, "origin": origin}
                )
        free = as_salesman.create(
            {"partner_id": self.customer.id, "club_id": free_club.id, "origin": "enrolment"}
        )
        invited = as_salesman.create(
            {"partner_id": self.customer.id, "club_id": invitation_club.id}
        )
        self.assertEqual((free | invited).mapped("state"), ["active", "active"])
        free.date_end = date(2026, 12, 31)
        other = self.env["res.partner"].create({"name": "Not a seller's customer"})
        with self.assertRaises(AccessError):
            self.Membership.with_user(retention_only).create(
                {"partner_id": other.id, "club_id": free_club.id}
            )
        paid = self.Membership.with_user(retention_admin).create(
            {"partner_id": self.customer.id, "club_id": self.paid_club.id}
        )
        self.assertEqual(paid.state, "active")
        # Memberships end through Cancel Membership, with a reason.
        for membership, values in (
            (free, {"state": "cancelled"}),
            (free, {"club_id": self.paid_club.id}),
            (paid.with_user(salesman), {"date_end": date(2030, 12, 31)}),
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                membership.write(values)
        with self.assertRaises(AccessError):
            free.unlink()
        wizard = (
            self.env["retention.club.cancel.wizard"]
            .with_user(salesman)
            .create({"membership_ids": [Command.set(free.ids)], "reason": "Asked to leave"})
        )
        wizard.action_apply()
        self.assertRecordValues(free, [{"state": "cancelled", "cancel_reason": "Asked to leave"}])
        invited.with_user(retention_admin).unlink()
        self.assertFalse(invited.exists())

    @freeze_time("2026-06-01")
    def test_a_failing_company_does_not_hold_back_the_others(self):
        other_company = self.env["res.company"].create({"name": "Other Club Co"})
        self.env["retention.club"].create(
            {
                "name": "Other Silver",
                "company_id": other_company.id,
                "qualification_threshold": 100.0,
            }
        )
        (self.company | other_company).retention_club_last_run = False
        Membership = self.registry["retention.club.membership"]
        daily_for_company = Membership._daily_for_company
        called = []

        def daily(model, company, today):
            called.append(company)
            if company == self.company:
                raise ValueError("a template that cannot render")
            return daily_for_company(model, company, today)

        with (
            patch.object(Membership, "_daily_for_company", daily),
            self.assertLogs(
                "odoo.addons.retention_loyalty.models.retention_club_membership", level="ERROR"
            ),
        ):
            self.Membership._cron_daily()
            self.Membership._cron_daily()
        self.assertEqual(set(called), {self.company, other_company})
        self.assertEqual(other_company.retention_club_last_run, date(2026, 6, 1))
        self.assertFalse(self.company.retention_club_last_run)
        self.assertEqual(self.company.retention_club_failed_on, date(2026, 6, 1))
        called.clear()
        with patch.object(Membership, "_daily_for_company", daily):
            self.Membership._cron_daily()
        self.assertEqual(called, [], "left alone for the rest of the day")


@tagged("post_install", "-at_install")
class TestClubEdgeFlows(ClubCase):
    def _paid_ladder(self):
        ladder = self.env["retention.club.ladder"].create({"name": "Paid levels"})
        products = self.env["product.product"].create(
            [
                {
                    "name": f"{name} year",
                    "type": "service",
                    "list_price": price,
                    "taxes_id": [Command.clear()],
                }
                for name, price in (("Bronze", 20.0), ("Diamond", 90.0))
            ]
        )
        bronze, diamond = self.env["retention.club"].create(
            [
                {
                    "name": name,
                    "policy": "paid",
                    "ladder_id": ladder.id,
                    "sequence": sequence,
                    "product_id": product.id,
                    "duration_months": 12,
                }
                for name, sequence, product in (
                    ("Bronze", 1, products[0]),
                    ("Diamond", 2, products[1]),
                )
            ]
        )
        return bronze, diamond

    def test_cancelled_order_ends_its_membership_and_reconfirming_does_not_double_it(self):
        with freeze_time("2026-03-01"):
            order = self._order(50.0, product=self.membership_product)
            membership = self.Membership.search([("order_id", "=", order.id)])
            order._action_cancel()
            self.assertRecordValues(membership, [{"state": "cancelled"}])
            self.assertIn(order.name, membership.cancel_reason)
            order.action_draft()
            order.action_confirm()
            self.Membership._start_purchased(order)  # a second pass adds nothing
            self.assertEqual(self.Membership.search_count([("order_id", "=", order.id)]), 2)
            self.assertEqual(len(self._current()), 1)

    def test_membership_paid_later_runs_its_full_duration_from_payment(self):
        self.paid_club.start_on = "paid"
        with freeze_time("2026-03-01"):
            order = self._order(50.0, product=self.membership_product)
            invoice = order._create_invoices()
            invoice.action_post()
        with freeze_time("2026-05-15"):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({})._create_payments()
        membership = self.Membership.search([("order_id", "=", order.id)])
        self.assertRecordValues(
            membership,
            [{"state": "active", "date_start": date(2026, 5, 15), "date_end": date(2027, 5, 14)}],
        )

    def test_two_levels_bought_together_start_one_after_the_other(self):
        bronze, diamond = self._paid_ladder()
        with freeze_time("2026-03-01"):
            order = self.env["sale.order"].create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [
                        Command.create(
                            {"product_id": club.product_id.id, "tax_id": [Command.clear()]}
                        )
                        for club in (bronze, diamond)
                    ],
                }
            )
            order.action_confirm()
        memberships = self.Membership.search([("order_id", "=", order.id)])
        self.assertRecordValues(
            memberships.sorted(lambda m: m.club_id.sequence),
            [
                {"club_id": bronze.id, "state": "pending", "date_start": date(2027, 3, 1)},
                {"club_id": diamond.id, "state": "active", "date_start": date(2026, 3, 1)},
            ],
        )

    def test_cancelling_ends_the_renewal_quotation_and_the_prepaid_successor(self):
        with freeze_time("2026-03-01"):
            self._order(50.0, product=self.membership_product)
            self._order(50.0, product=self.membership_product)  # next year, paid ahead
        current, successor = self.Membership.search(
            [("partner_id", "=", self.customer.id)], order="date_start"
        )
        self.assertEqual(successor.state, "pending")
        with freeze_time("2027-02-10"):
            current.renewal_order_id = self._order(
                50.0, product=self.membership_product, confirm=False
            )
            current.renewal_order_id.state = "sent"
            current._cancel("Moving away")
        self.assertEqual(current.renewal_order_id.state, "cancel")
        self.assertRecordValues(successor, [{"state": "cancelled"}])

    def test_grace_length_is_the_held_levels_own(self):
        self.gold.grace_days = 90
        with freeze_time("2026-01-10"):
            self._order(2500.0, day=date(2026, 1, 10))
            self._daily()
        with freeze_time("2027-01-11"):
            self._daily()
        self.assertEqual(self._current().grace_until, date(2027, 4, 11))

    def test_points_levels_count_the_points_of_contacts(self):
        program = self._points_program("Level points")
        points_club = self.env["retention.club"].create(
            {
                "name": "Points Club",
                "qualification_measure": "points",
                "points_program_id": program.id,
                "qualification_threshold": 150.0,
            }
        )
        company_partner = self.env["res.partner"].create({"name": "Points Co", "is_company": True})
        contact = self.env["res.partner"].create({"name": "Pat", "parent_id": company_partner.id})
        self._order(200.0, partner=contact)
        self.assertIn(points_club, self._current(company_partner).club_id)

    @freeze_time("2026-06-01")
    def test_with_invoices_as_revenue_posting_an_invoice_upgrades_at_once(self):
        self.company.retention_revenue_source = "invoices"
        order = self._order(700.0)
        self.assertFalse(self._current())
        order._create_invoices().action_post()
        self.assertEqual(self._current().club_id, self.silver)

    @freeze_time("2026-06-01")
    def test_moving_up_sends_the_level_email(self):
        self._order(600.0)
        self._order(1500.0)
        mails = self.env["mail.mail"].search([("model", "=", "retention.club.membership")])
        self.assertIn("You have reached Gold", mails.mapped("subject"))
        self.assertIn("Welcome to Silver", mails.mapped("subject"))
