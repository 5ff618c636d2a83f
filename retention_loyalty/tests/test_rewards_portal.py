from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import MissingError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import format_amount

from .common import make_order, make_points_program, make_product


@tagged("post_install", "-at_install")
class RewardsPortalCase(TransactionCase):
    """A company customer whose buyer has a portal account, a points card
    of the company with a hand-built ledger, and a catalogue of rewards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.customer = cls.env["res.partner"].create({"name": "Brewer Ltd", "is_company": True})
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Ann Brewer", "parent_id": cls.customer.id, "email": "ann@example.com"}
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="rl_rewards_buyer",
            name="Ann Brewer",
            groups="base.group_portal",
            partner_id=cls.buyer.id,
        )
        cls.stranger = cls.env["res.partner"].create({"name": "Someone Else"})
        cls.stranger_user = new_test_user(
            cls.env,
            login="rl_rewards_stranger",
            name="Someone Else",
            groups="base.group_portal",
            partner_id=cls.stranger.id,
        )
        cls.coffee = make_product(cls.env, "Rewards coffee", 10.0)
        cls.mug = make_product(cls.env, "Rewards mug", 8.0)
        cls.old_mug = make_product(cls.env, "Rewards old mug", 8.0)
        cls.not_for_sale = make_product(cls.env, "Rewards display stand", 80.0)
        cls.program = make_points_program(
            cls.env,
            "Brew Points",
            reward={"discount": 10, "discount_mode": "percent", "required_points": 100},
            retention_expiry_policy="earned",
            retention_expiry_months=12,
        )
        cls.program.rule_ids.write({"minimum_amount": 20.0, "minimum_amount_tax_mode": "excl"})
        cls.discount_reward = cls.program.reward_ids
        cls.mug_reward, cls.old_mug_reward, cls.stand_reward, cls.pay_reward = cls.env[
            "loyalty.reward"
        ].create(
            [
                {
                    "program_id": cls.program.id,
                    "reward_type": "product",
                    "reward_product_id": product.id,
                    "required_points": 300,
                }
                for product in (cls.mug, cls.old_mug, cls.not_for_sale)
            ]
            + [
                {
                    "program_id": cls.program.id,
                    "reward_type": "discount",
                    "discount_mode": "per_point",
                    "discount": 0.01,
                    "discount_applicability": "order",
                    "required_points": 1,
                }
            ]
        )
        cls.program.retention_redeem_reward_id = cls.pay_reward
        cls.old_mug.active = False
        cls.not_for_sale.sale_ok = False
        cls.card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.customer.id}
        )
        cls.Page = cls.env["retention.portal.rewards"].with_user(cls.portal_user)

    def _post(self, *changes):
        return self.env["loyalty.card"]._retention_post(
            [{"card": self.card, "description": "-", **change} for change in changes]
        )

    def _as(self, user):
        return self.env["retention.portal.rewards"].with_user(user)


@tagged("post_install", "-at_install")
class TestRewardsPage(RewardsPortalCase):
    @freeze_time("2026-06-30")
    def test_the_ledger_in_the_customers_words_with_their_documents(self):
        followed = make_order(self.env, self.customer, self.coffee, 250.0, day=date(2025, 9, 1))
        followed.message_subscribe(self.buyer.ids)
        unfollowed = make_order(self.env, self.customer, self.coffee, 80.0, day=date(2025, 10, 1))
        credit_note = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_line_ids": [
                    Command.create({"product_id": self.coffee.id, "price_unit": 50.0})
                ],
            }
        )
        credit_note.action_post()
        credit_note.message_subscribe(self.buyer.ids)
        self._post(
            {"kind": "opening", "points": 40, "date": date(2025, 6, 1)},
            {"kind": "earn", "points": 250, "order_id": followed.id, "date": date(2025, 9, 1)},
            {"kind": "spend", "points": -80, "order_id": unfollowed.id, "date": date(2025, 10, 1)},
            {
                "kind": "refund",
                "points": -50,
                "order_id": followed.id,
                "move_id": credit_note.id,
                "date": date(2025, 11, 1),
            },
            {"kind": "bonus", "points": 25, "description": "Birthday", "date": date(2026, 1, 5)},
            {"kind": "cancel", "points": 80, "order_id": unfollowed.id, "date": date(2026, 2, 1)},
            {"kind": "expire", "points": -40, "date": date(2026, 6, 1)},
            {
                "kind": "adjust",
                "points": 5,
                "description": "Goodwill for a late delivery",
                "date": date(2026, 6, 2),
            },
        )
        cards = self.Page._cards()
        self.assertEqual(cards, self.card)
        lines = self.Page._ledger_lines(cards)
        self.assertEqual(
            [(line["text"], line["sign"] + line["points"], line["documents"]) for line in lines],
            [
                ("Adjustment: Goodwill for a late delivery", "+5 points", []),
                ("Expired", "-40 points", []),
                (
                    f"Given back: order {unfollowed.name} cancelled",
                    "+80 points",
                    [(unfollowed.name, False)],
                ),
                ("Bonus: Birthday", "+25 points", []),
                (
                    f"Taken back by credit note {credit_note.name}",
                    "-50 points",
                    [
                        (followed.name, f"/my/orders/{followed.id}"),
                        (credit_note.name, f"/my/invoices/{credit_note.id}"),
                    ],
                ),
                (f"Spent on order {unfollowed.name}", "-80 points", [(unfollowed.name, False)]),
                (
                    f"Earned on order {followed.name}",
                    "+250 points",
                    [(followed.name, f"/my/orders/{followed.id}")],
                ),
                ("Opening balance", "+40 points", []),
            ],
        )
        self.assertEqual(self.card.points, 230)
        # Spent points a credit note gives back (and take again when withdrawn).
        Entry = self.env["retention.points.entry"]
        for points, text in (
            (30, f"Given back by credit note {credit_note.name}"),
            (-30, f"Spent again: credit note {credit_note.name} withdrawn"),
        ):
            entry = Entry.new({"kind": "refund_spent", "points": points, "move_id": credit_note.id})
            self.assertEqual(self.Page._entry_text(entry), text)

    @freeze_time("2026-06-30")
    def test_balance_expiries_ways_to_earn_and_catalogue(self):
        self._post(
            {"kind": "earn", "points": 60, "date": date(2025, 8, 10)},
            {"kind": "earn", "points": 90, "date": date(2025, 9, 20)},
            {"kind": "earn", "points": 20, "date": date(2025, 9, 20)},
            {"kind": "earn", "points": 10, "date": date(2025, 11, 2)},
            {"kind": "earn", "points": 30, "date": date(2026, 1, 3)},
            {"kind": "spend", "points": -50, "date": date(2026, 2, 1)},
        )
        overview = self.Page._overview()
        [line] = overview["cards"]
        self.assertEqual(line["card"], self.card)
        self.assertEqual(self.card.points_display, "160 points")
        # Oldest points are spent first: 10 of the August lot are left.
        self.assertEqual(
            line["expiries"],
            [
                (date(2026, 8, 10), "10 points"),
                (date(2026, 9, 20), "110 points"),
                (date(2026, 11, 2), "10 points"),
            ],
        )
        currency = self.program.currency_id
        self.assertEqual(
            line["ways"],
            [
                f"1 points per {format_amount(self.env, 1.0, currency)} spent on orders of at "
                f"least {format_amount(self.env, 20.0, currency)} before tax"
            ],
        )
        self.assertEqual(line["point_value"], 0.01)
        # Archived, unsellable and pay-with-points rewards are not offered.
        self.assertEqual(
            [(offer["reward"], offer["cost"], offer["missing"]) for offer in line["rewards"]],
            [(self.discount_reward, "100 points", 0.0), (self.mug_reward, "300 points", 140.0)],
        )
        self.assertFalse(overview["reward_codes"])

    def test_rules_in_plain_words(self):
        rule = self.program.rule_ids
        rule.write(
            {
                "reward_point_mode": "unit",
                "reward_point_amount": 2,
                "minimum_amount": 0,
                "minimum_qty": 3,
                "product_ids": [Command.set((self.coffee | self.mug).ids)],
            }
        )
        self.assertEqual(
            rule._retention_portal_sentence(),
            "2 points per item bought on Rewards coffee, Rewards mug when you buy at least 3 items",
        )
        rule.write({"reward_point_mode": "order", "minimum_qty": 1, "product_ids": False})
        self.assertEqual(rule._retention_portal_sentence(), "2 points per order")

    def test_only_the_customers_cards_of_companies_the_user_sees(self):
        other_company = self.env["res.company"].create({"name": "Rewards Elsewhere"})
        elsewhere = make_points_program(
            self.env,
            "Elsewhere Points",
            company_id=other_company.id,
        )
        elsewhere_card = self.env["loyalty.card"].create(
            {"program_id": elsewhere.id, "partner_id": self.customer.id, "points": 500}
        )
        buyer_card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.buyer.id, "points": 0}
        )
        self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.stranger.id, "points": 70}
        )
        self.assertEqual(self.Page._cards(), self.card | buyer_card)
        self.portal_user.company_ids = [Command.link(other_company.id)]
        self.assertEqual(self.Page._cards(), self.card | buyer_card | elsewhere_card)
        self.assertFalse(self._as(self.stranger_user)._cards() & self.Page._cards())


@tagged("post_install", "-at_install")
class TestRewardsPaging(RewardsPortalCase):
    @freeze_time("2026-06-30")
    def test_pages_of_the_ledger(self):
        self._post(
            *[
                {
                    "kind": "earn",
                    "points": index + 1,
                    "description": f"Points {index + 1}",
                    "date": date(2026, 1, 1),
                }
                for index in range(45)
            ]
        )
        cards = self.Page._cards()
        self.assertEqual(self.Page._ledger_count(cards), 45)
        first = self.Page._ledger_lines(cards, offset=0, limit=20)
        last = self.Page._ledger_lines(cards, offset=40, limit=20)
        self.assertEqual([line["text"] for line in first[:2]], ["Points 45", "Points 44"])
        self.assertEqual(
            [line["text"] for line in last],
            ["Points 5", "Points 4", "Points 3", "Points 2", "Points 1"],
        )
        # A page reads the same few queries however long the history is.
        self.env.invalidate_all()
        with self.assertQueryCount(__system__=5):
            self.Page._ledger_lines(cards, offset=20, limit=20)


@tagged("post_install", "-at_install")
class TestRewardsClaim(RewardsPortalCase):
    def setUp(self):
        super().setUp()
        self._post({"kind": "earn", "points": 250, "date": date(2026, 1, 1)})

    def _entries(self):
        return self.env["retention.points.entry"].search([("card_id", "=", self.card.id)])

    @freeze_time("2026-06-30")
    def test_claim_spends_points_and_gives_a_code_usable_on_the_next_order(self):
        coupon = self.Page._claim(self.card.id, self.discount_reward.id)
        self.assertEqual(self.card.points, 150)
        spent = self._entries().filtered(lambda entry: entry.kind == "spend")
        self.assertRecordValues(
            spent,
            [
                {
                    "points": -100,
                    "description": f"Reward claimed: 10% on your order (code {coupon.code})",
                }
            ],
        )
        self.assertEqual(sum(self._entries().mapped("points")), 150)
        self.assertEqual(self._entries().filtered("remaining").remaining, 150)
        program = coupon.program_id
        self.assertRecordValues(
            program,
            [{"program_type": "coupons", "trigger": "with_code", "company_id": self.company.id}],
        )
        self.assertRecordValues(
            program.reward_ids,
            [
                {
                    "reward_type": "discount",
                    "discount": 10,
                    "discount_mode": "percent",
                    "required_points": 1,
                }
            ],
        )
        self.assertEqual((coupon.partner_id, coupon.points), (self.buyer, 1))
        # Odoo's coupon e-mail sends the code.
        self.assertEqual(program.communication_plan_ids.mapped("trigger"), ["create"])
        self.assertEqual(
            program.communication_plan_ids.mail_template_id,
            self.env.ref("loyalty.mail_template_loyalty_card"),
        )
        self.assertEqual(self.Page._overview()["reward_codes"], coupon)
        self.assertEqual(
            self.Page._ledger_lines(self.Page._cards(), limit=1)[0]["text"],
            f"Reward claimed: 10% on your order (code {coupon.code})",
        )
        # A second claim reuses the program; codes differ.
        second = self.Page._claim(self.card.id, self.discount_reward.id)
        self.assertEqual(second.program_id, program)
        self.assertNotEqual(second.code, coupon.code)
        self.assertEqual(self.card.points, 50)

        # The code works on a quotation as any coupon of Odoo's.
        order = make_order(self.env, self.buyer, self.coffee, 200.0, confirm=False)
        claimable = order._try_apply_code(coupon.code)
        self.assertEqual(claimable, {coupon: program.reward_ids})
        self.assertEqual(order._apply_program_reward(program.reward_ids, coupon), {})
        order._update_programs_and_rewards()
        self.assertEqual(order.amount_untaxed, 180.0)
        order.action_confirm()
        self.assertEqual(coupon.points, 0)
        self.assertEqual(self.Page._overview()["reward_codes"], second)
        self.assertEqual(
            order._try_apply_code(coupon.code).get("error"), "This coupon has already been used."
        )

    @freeze_time("2026-06-30")
    def test_a_changed_reward_gets_a_new_program_the_old_codes_keep_theirs(self):
        first = self.Page._claim(self.card.id, self.discount_reward.id)
        # A customer reading another language gets the same reward.
        self.env["res.lang"]._activate_lang("fr_FR")
        self.discount_reward.with_context(lang="fr_FR").description = "10% sur la commande"
        in_french = self.Page.with_context(lang="fr_FR")._claim(
            self.card.id, self.discount_reward.id
        )
        self.assertEqual(in_french.program_id, first.program_id)
        self._post({"kind": "bonus", "points": 100, "date": date(2026, 6, 1)})
        self.discount_reward.discount = 15
        second = self.Page._claim(self.card.id, self.discount_reward.id)
        self.assertNotEqual(first.program_id, second.program_id)
        self.assertEqual(first.program_id.reward_ids.discount, 10)
        self.assertEqual(second.program_id.reward_ids.discount, 15)

    @freeze_time("2026-06-30")
    def test_not_enough_points_changes_nothing(self):
        with self.assertRaisesRegex(
            UserError, r"^You have 250 points; Free Product - Rewards mug needs 300 points\.$"
        ):
            self.Page._claim(self.card.id, self.mug_reward.id)
        self.assertEqual(self.card.points, 250)
        self.assertEqual(len(self._entries()), 1)
        self.assertFalse(self.mug_reward.retention_claim_program_id)

    @freeze_time("2026-06-30")
    def test_hostile_claims(self):
        stranger_card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.stranger.id, "points": 900}
        )
        other_program = make_points_program(
            self.env, "Other Points", reward={"discount": 50, "required_points": 1}
        )
        no_card = "This loyalty card does not exist."
        no_reward = "This reward cannot be claimed."
        for card_id, reward_id, message in (
            (stranger_card.id, self.discount_reward.id, no_card),
            (0, self.discount_reward.id, no_card),
            (-self.card.id, self.discount_reward.id, no_card),
            (self.card.id, other_program.reward_ids.id, no_reward),
            (self.card.id, self.pay_reward.id, no_reward),
            (self.card.id, self.stand_reward.id, no_reward),
            (self.card.id, self.old_mug_reward.id, no_reward),
            (self.card.id, 0, no_reward),
        ):
            with (
                self.subTest(card=card_id, reward=reward_id),
                self.assertRaisesRegex(UserError, f"^{message}$"),
            ):
                self.Page._claim(card_id, reward_id)
        # The stranger cannot spend the customer's points either.
        with self.assertRaises(MissingError):
            self._as(self.stranger_user)._claim(self.card.id, self.discount_reward.id)
        self.assertEqual((self.card.points, stranger_card.points), (250, 900))
        self.assertEqual(len(self._entries()), 1)
        # A hostile context changes nothing of who the customer is.
        with self.assertRaises(MissingError):
            self.Page.with_context(active_test=False, allowed_company_ids=[1])._claim(
                stranger_card.id, self.discount_reward.id
            )

    @freeze_time("2026-06-30")
    def test_archived_program_or_card_cannot_be_claimed(self):
        self.card.active = False
        with self.assertRaises(MissingError):
            self.Page._claim(self.card.id, self.discount_reward.id)
        self.assertEqual(self.card.points, 250)


@tagged("post_install", "-at_install")
class TestRewardsClubs(RewardsPortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Club = cls.env["retention.club"]
        cls.tasting = Club.create(
            {
                "name": "Tasting Club",
                "policy": "free",
                "portal_joinable": True,
                "portal_terms": "<p>We email you once a month.</p>",
                "perks_description": "<p>A tasting each season</p>",
            }
        )
        cls.newsletter_club = Club.create(
            {"name": "Open Club", "policy": "free", "portal_joinable": True}
        )
        cls.back_office_only = Club.create({"name": "Staff Picks", "policy": "free"})
        cls.invitation = Club.create({"name": "Friends", "policy": "invitation"})
        cls.paid = Club.create(
            {
                "name": "Paid Club",
                "policy": "paid",
                "product_id": make_product(cls.env, "Paid club fee", 30.0).id,
            }
        )
        cls.qualified = Club.create(
            {"name": "Gold", "policy": "qualified", "qualification_threshold": 1000}
        )
        other_company = cls.env["res.company"].create({"name": "Clubs Elsewhere"})
        cls.elsewhere = Club.create(
            {
                "name": "Elsewhere Club",
                "policy": "free",
                "portal_joinable": True,
                "company_id": other_company.id,
            }
        )
        cls.Membership = cls.env["retention.club.membership"]

    def _memberships(self):
        return self.Membership.search([("partner_id", "=", self.customer.id)], order="id")

    @freeze_time("2026-06-30")
    def test_join_and_leave_a_free_club(self):
        self.assertEqual(self.Page._joinable_clubs(), self.tasting | self.newsletter_club)
        with self.assertRaisesRegex(UserError, "Accept the terms of Tasting Club to join it."):
            self.Page._join(self.tasting.id)
        self.assertFalse(self._memberships())
        membership = self.Page._join(self.tasting.id, accept_terms=True)
        self.assertRecordValues(
            membership,
            [
                {
                    "partner_id": self.customer.id,
                    "club_id": self.tasting.id,
                    "origin": "enrolment",
                    "state": "active",
                    "date_start": date(2026, 6, 30),
                }
            ],
        )
        self.assertIn(
            "Joined by Ann Brewer in the portal, accepting the terms.",
            membership.message_ids.mapped("body")[0],
        )
        self.assertEqual(self.Page._joinable_clubs(), self.newsletter_club)
        self.assertEqual(self.Page._leavable_memberships(), membership)
        with self.assertRaisesRegex(UserError, "This club cannot be joined here."):
            self.Page._join(self.tasting.id, accept_terms=True)
        # No terms, nothing to accept.
        self.Page._join(self.newsletter_club.id)

        with self.assertRaisesRegex(UserError, "This membership cannot be ended here."):
            self._as(self.stranger_user)._leave(membership.id)
        self.assertEqual(membership.state, "active")
        self.Page._leave(membership.id)
        self.assertRecordValues(
            membership,
            [
                {
                    "state": "cancelled",
                    "date_end": date(2026, 6, 30),
                    "cancel_reason": "Left in the portal by Ann Brewer.",
                }
            ],
        )
        # The history is kept: joining again is a new membership.
        again = self.Page._join(self.tasting.id, accept_terms=True)
        self.assertEqual(
            self._memberships().filtered(lambda m: m.club_id == self.tasting),
            membership | again,
        )

    @freeze_time("2026-06-30")
    def test_paid_qualified_invitation_and_other_companies_clubs_are_not_joined_here(self):
        for club in (
            self.paid,
            self.qualified,
            self.invitation,
            self.back_office_only,
            self.elsewhere,
        ):
            with (
                self.subTest(club=club.name),
                self.assertRaisesRegex(UserError, "^This club cannot be joined here.$"),
            ):
                self.Page._join(club.id, accept_terms=True)
        self.assertFalse(self._memberships())
        invited = self.Membership.create(
            {"partner_id": self.customer.id, "club_id": self.invitation.id}
        )
        with self.assertRaisesRegex(UserError, "^This membership cannot be ended here.$"):
            self.Page._leave(invited.id)
        self.assertEqual(invited.state, "active")

    def test_only_free_clubs_open_to_the_portal(self):
        with self.assertRaisesRegex(ValidationError, "only free clubs can be joined in the portal"):
            self.paid.portal_joinable = True
