from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import make_order, make_product


class PlaybookCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.product = make_product(cls.env, "Playbook Coffee", 50.0)
        cls.salesman = new_test_user(
            cls.env, login="rl_playbook_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.other_salesman = new_test_user(
            cls.env, login="rl_playbook_other", groups="sales_team.group_sale_salesman"
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Followed Customer",
                "email": "followed@example.com",
                "user_id": cls.salesman.id,
            }
        )
        cls.call = cls.env.ref("mail.mail_activity_data_call")
        cls.Run = cls.env["retention.playbook.run"]

    def _playbook(self, trigger="order_confirmed", actions=None, **values):
        return self.env["retention.playbook"].create(
            {
                "name": f"Playbook {trigger}",
                "trigger": trigger,
                "control_percent": 0,
                "action_ids": actions
                or [
                    Command.create(
                        {
                            "kind": "activity",
                            "activity_type_id": self.call.id,
                            "deadline_days": 2,
                            "note": "<p>Call {customer}: bought {products}</p>",
                        }
                    )
                ],
                **values,
            }
        )

    def _order(self, partner=None, day=None, amount=50.0, confirm=True):
        return make_order(self.env, partner or self.customer, self.product, amount, day, confirm)

    def _activities(self, playbook, partner=None):
        return self.env["mail.activity"].search(
            [
                ("retention_playbook_id", "=", playbook.id),
                ("res_id", "=", (partner or self.customer).id),
                ("res_model", "=", "res.partner"),
            ]
        )


@tagged("post_install", "-at_install")
class TestPlaybookTriggers(PlaybookCase):
    @freeze_time("2026-06-01")
    def test_order_confirmed_schedules_one_activity_and_respects_the_cool_down(self):
        playbook = self._playbook(cooldown_days=30)
        self._order()
        activity = self._activities(playbook)
        self.assertRecordValues(
            activity,
            [
                {
                    "user_id": self.salesman.id,
                    "date_deadline": date(2026, 6, 3),
                    "summary": playbook.name,
                }
            ],
        )
        self.assertIn("Playbook Coffee", str(activity.note))
        self._order()  # open activity and cool-down: nothing new
        self.assertEqual(len(self._activities(playbook)), 1)
        activity.action_done()
        self._order()  # done, but still within the cool-down
        self.assertEqual(self.Run.search_count([("playbook_id", "=", playbook.id)]), 1)
        with freeze_time("2026-07-02"):
            self._order()
        self.assertEqual(self.Run.search_count([("playbook_id", "=", playbook.id)]), 2)

    @freeze_time("2026-06-01")
    def test_first_and_nth_order(self):
        first = self._playbook(order_mode="first", cooldown_days=0)
        third = self._playbook(order_mode="nth", order_number=3, cooldown_days=0)
        for _order in range(3):
            self._order()
            self._activities(first).action_done()
            self._activities(third).action_done()
        self.assertEqual(self.Run.search_count([("playbook_id", "=", first.id)]), 1)
        runs = self.Run.search([("playbook_id", "=", third.id)])
        self.assertEqual(len(runs), 1)
        self.assertEqual(
            runs.order_id,
            self.env["sale.order"].search(
                [("partner_id", "=", self.customer.id)], order="id desc", limit=1
            ),
        )

    def test_points_expiring_and_birthday_run_daily_once(self):
        program = self.env["loyalty.program"].create(
            {
                "name": "Playbook points",
                "program_type": "loyalty",
                "trigger": "auto",
                "retention_expiry_policy": "earned",
                "retention_expiry_months": 1,
            }
        )
        with freeze_time("2026-05-10"):
            self.env["loyalty.card"].create(
                {"program_id": program.id, "partner_id": self.customer.id, "points": 50}
            )
        expiring = self._playbook("points_expiring", trigger_days=14)
        self.customer.retention_birthday = date(1980, 6, 5)
        birthday = self._playbook("birthday", trigger_days=0)
        with freeze_time("2026-06-01"):
            for _call in range(3):  # one playbook per call, as the cron reruns itself
                self.env["retention.playbook"]._cron_evaluate()
            runs = self.Run.search([("playbook_id", "=", expiring.id)])
            self.assertEqual(len(self._activities(expiring)), 1, runs.mapped("message"))
            self.assertFalse(self._activities(birthday))
        with freeze_time("2026-06-05"):
            for _call in range(3):
                self.env["retention.playbook"]._cron_evaluate()
            self.assertEqual(len(self._activities(birthday)), 1)
            self.assertEqual(len(self._activities(expiring)), 1)

    def test_delayed_order_playbook_runs_from_the_cron_a_week_later(self):
        playbook = self._playbook(order_delay_days=7)
        with freeze_time("2026-06-01 10:00:00"):
            order = self._order()
            self.assertFalse(self._activities(playbook))
        with freeze_time("2026-06-08"):
            for _call in range(3):
                self.env["retention.playbook"]._cron_evaluate()
        run = self.Run.search([("playbook_id", "=", playbook.id)])
        self.assertEqual(run.order_id, order)
        self.assertEqual(len(self._activities(playbook)), 1)

    def test_overdue_and_segment_triggers_use_the_customer_figures(self):
        for days_ago in (300, 270, 240):
            self._order(day=date(2026, 6, 30) - timedelta(days=days_ago))
        self.env["retention.customer.stat"]._recompute_company(
            self.company, today=date(2026, 6, 30)
        )
        overdue = self._playbook("overdue", overdue_factor=3, trigger_days=0)
        patient = self._playbook("overdue", overdue_factor=10, trigger_days=0)
        with freeze_time("2026-06-30"):
            overdue._evaluate(date(2026, 6, 30))
            patient._evaluate(date(2026, 6, 30))
        self.assertTrue(self._activities(overdue))
        self.assertFalse(self._activities(patient))


@tagged("post_install", "-at_install")
class TestPlaybookActions(PlaybookCase):
    @freeze_time("2026-06-01")
    def test_email_is_skipped_without_address_and_the_activity_still_planned(self):
        template = self.env.ref("retention_loyalty.mail_template_playbook_thank_you")
        playbook = self._playbook(
            actions=[
                Command.create({"kind": "email", "mail_template_id": template.id}),
                Command.create({"kind": "activity", "activity_type_id": self.call.id}),
            ]
        )
        silent = self.env["res.partner"].create({"name": "No Email", "user_id": self.salesman.id})
        self._order(partner=silent)
        self._order()
        runs = self.Run.search([("playbook_id", "=", playbook.id)])
        by_partner = {run.partner_id: run for run in runs}
        self.assertIn("No email address", by_partner[silent].message)
        self.assertFalse(by_partner[silent].email_sent)
        self.assertTrue(by_partner[silent].activity_id)
        self.assertTrue(by_partner[self.customer].email_sent)

    @freeze_time("2026-06-01")
    def test_ready_made_thank_you_suggests_related_products_and_sends_a_voucher(self):
        filters = self.env["product.product"].create({"name": "Paper filters", "list_price": 3})
        self.product.product_tmpl_id.optional_product_ids = filters.product_tmpl_id
        playbook = self.env.ref("retention_loyalty.playbook_thank_you")
        playbook.active = True
        playbook.action_ids.program_id.active = True
        self._order()
        run = self.Run.search([("playbook_id", "=", playbook.id)])
        self.assertEqual(run.card_id.expiration_date, date(2026, 7, 31))
        mail = self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        self.assertIn("Paper filters", mail.body_html)

    @freeze_time("2026-06-01")
    def test_voucher_bonus_points_and_club_enrolment(self):
        coupons = self.env["loyalty.program"].create(
            {"name": "Next order voucher", "program_type": "next_order_coupons", "trigger": "auto"}
        )
        points = self.env["loyalty.program"].create(
            {"name": "Bonus points", "program_type": "loyalty", "trigger": "auto"}
        )
        club = self.env["retention.club"].create({"name": "Friends", "policy": "invitation"})
        playbook = self._playbook(
            actions=[
                Command.create({"kind": "coupon", "program_id": coupons.id, "validity_days": 60}),
                Command.create({"kind": "points", "program_id": points.id, "points": 25}),
                Command.create({"kind": "club", "club_id": club.id}),
            ]
        )
        self._order()
        run = self.Run.search([("playbook_id", "=", playbook.id)])
        self.assertEqual(run.card_id.expiration_date, date(2026, 7, 31))
        self.assertEqual(run.points_entry_id.kind, "bonus")
        self.assertEqual(run.points_entry_id.card_id.points, 25)
        self.assertEqual(run.membership_id.club_id, club)

    @freeze_time("2026-06-01")
    def test_a_failing_action_undoes_the_whole_playbook(self):
        broken = self.env["mail.template"].create(
            {
                "name": "Broken",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "subject": "{{ object.no_such_field }}",
                "body_html": "<p>x</p>",
            }
        )
        playbook = self._playbook(
            actions=[
                Command.create({"kind": "activity", "activity_type_id": self.call.id}),
                Command.create({"kind": "email", "mail_template_id": broken.id}),
            ]
        )
        with mute_logger(
            "odoo.addons.retention_loyalty.models.retention_playbook",
            "odoo.addons.mail.models.mail_render_mixin",
            "odoo.tools.safe_eval",
        ):
            self._order()
        self.assertFalse(self._activities(playbook))
        self.assertEqual(self.Run.search([("playbook_id", "=", playbook.id)]).state, "failed")

    def test_bad_playbooks_are_refused(self):
        with self.assertRaises(ValidationError):
            self.env["retention.playbook"].create({"name": "Empty", "trigger": "overdue"})
        with self.assertRaises(ValidationError):
            self._playbook(cooldown_days=-1)
        with self.assertRaises(ValidationError):
            self._playbook(
                actions=[
                    Command.create(
                        {
                            "kind": "email",
                            "mail_template_id": self.env.ref(
                                "retention_loyalty.mail_template_club_welcome"
                            ).id,
                        }
                    )
                ]
            )
        with self.assertRaises(ValidationError):
            self._playbook(
                actions=[
                    Command.create(
                        {"kind": "activity", "activity_type_id": self.call.id, "deadline_days": -2}
                    )
                ]
            )

    @freeze_time("2026-06-01")
    def test_archived_salesperson_falls_back_to_the_team_leader(self):
        leader = new_test_user(
            self.env, login="rl_playbook_leader", groups="sales_team.group_sale_manager"
        )
        self.env["crm.team"].create(
            {
                "name": "Retention team",
                "user_id": leader.id,
                "member_ids": [Command.link(self.salesman.id)],
            }
        )
        self.salesman.active = False
        playbook = self._playbook()
        self._order()
        self.assertEqual(self._activities(playbook).user_id, leader)


@tagged("post_install", "-at_install")
class TestPlaybookEffect(PlaybookCase):
    def test_control_group_and_uplift_report(self):
        customers = self.env["res.partner"].create(
            [{"name": f"Effect {index}", "user_id": self.salesman.id} for index in range(40)]
        )
        playbook = self._playbook("overdue", control_percent=50, trigger_days=1, overdue_factor=0)
        with freeze_time("2026-06-01"):
            for customer in customers:
                self._order(partner=customer, day=date(2026, 3, 1))
            self.env["retention.customer.stat"]._recompute_company(
                self.company, today=date(2026, 6, 1)
            )
            playbook._evaluate(date(2026, 6, 1))
        runs = self.Run.search([("playbook_id", "=", playbook.id)])
        control = runs.filtered("in_control")
        reached = runs - control
        self.assertEqual(len(runs), 40)
        self.assertTrue(5 <= len(control) <= 35)
        self.assertFalse(control.activity_id)
        self.assertEqual(len(reached.activity_id), len(reached))
        # Half the reached and none of the control group order again within the window.
        for run in reached[: len(reached) // 2]:
            self._order(partner=run.partner_id, day=date(2026, 6, 20), amount=100.0)
        self._order(partner=control[0].partner_id, day=date(2026, 9, 30))  # after the window
        self.env.flush_all()
        effect = self.env["retention.playbook.effect"].search([("playbook_id", "=", playbook.id)])
        self.assertRecordValues(
            effect,
            [
                {
                    "reached": len(reached),
                    "control": len(control),
                    "reached_reordered": len(reached) // 2,
                    "control_reordered": 0,
                    "control_rate": 0.0,
                }
            ],
        )
        self.assertAlmostEqual(effect.rate_uplift, (len(reached) // 2) / len(reached))
        self.assertAlmostEqual(effect.revenue_uplift, 100.0 * (len(reached) // 2) / len(reached))


@tagged("post_install", "-at_install")
class TestPlaybookAccessAndCost(PlaybookCase):
    @freeze_time("2026-06-01")
    def test_salespeople_see_their_own_follow_ups(self):
        playbook = self._playbook()
        theirs = self.env["res.partner"].create(
            {"name": "Theirs", "user_id": self.other_salesman.id}
        )
        self._order()
        self._order(partner=theirs)
        action = self.env.ref("retention_loyalty.mail_activity_action_retention_followups")
        mine = (
            self.env["mail.activity"]
            .with_user(self.salesman)
            .search([("retention_playbook_id", "!=", False), ("user_id", "=", self.salesman.id)])
        )
        self.assertEqual(mine.res_id, self.customer.id)
        self.assertIn("uid", action.domain)
        runs = self.Run.with_user(self.salesman).search([("playbook_id", "=", playbook.id)])
        self.assertEqual(runs.partner_id, self.customer)
        mine.with_user(self.salesman).action_done()
        self.assertFalse(self._activities(playbook))

    @freeze_time("2026-06-01")
    def test_confirmation_queries_do_not_grow_with_history(self):
        for index in range(5):
            self._playbook(order_mode="every", cooldown_days=0, name=f"Every {index}")
        short = self.env["res.partner"].create({"name": "Short", "user_id": self.salesman.id})
        long = self.env["res.partner"].create({"name": "Long", "user_id": self.salesman.id})
        warm = self.env["res.partner"].create({"name": "Warm", "user_id": self.salesman.id})
        self._order(partner=short, day=date(2026, 5, 1))
        for days in range(30):
            self._order(partner=long, day=date(2026, 5, 1) - timedelta(days=days))
        counts = []
        for partner in (warm, short, long):
            order = self._order(partner=partner, confirm=False)
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            order.action_confirm()
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(counts[1], counts[2])


@tagged("post_install", "-at_install")
class TestPlaybookOtherTriggers(PlaybookCase):
    def _reached(self, playbook, today):
        return playbook._evaluate(today).filtered(lambda run: run.state == "done").partner_id

    def test_segment_cadence_anniversary_subscription_and_club_triggers(self):
        today = date(2026, 6, 30)
        for days_ago in (365, 300, 200):
            self._order(day=today - timedelta(days=days_ago))
        self.env["retention.customer.stat"]._recompute_company(self.company, today=today)
        stat = self.env["retention.customer.stat"].search([("partner_id", "=", self.customer.id)])
        self.env["retention.segment.history"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "date": today,
                "old_value_tier_id": stat.value_tier_id.id,
                "value_tier_id": stat.value_tier_id.id,
                "old_risk_level": "medium",
                "risk_level": "high",
            }
        )
        segment = self._playbook("segment_entered", risk_level="high")
        segment.last_evaluated = today - timedelta(days=1)
        self.assertEqual(self._reached(segment, today), self.customer)
        quiet = self._playbook("no_contact", trigger_days=150)
        self.assertEqual(self._reached(quiet, today), self.customer)
        anniversary = self._playbook("anniversary", trigger_days=0)
        self.assertEqual(stat.first_order_date, date(2025, 6, 30))
        self.assertEqual(self._reached(anniversary, date(2026, 6, 29)), self.env["res.partner"])
        self.assertEqual(self._reached(anniversary, today), self.customer)

        with freeze_time("2026-06-30"):
            subscription = self.env["retention.subscription"].create(
                {
                    "partner_id": self.customer.id,
                    "date_start": date(2026, 5, 15),
                    "max_periods": 2,
                    "line_ids": [Command.create({"product_id": self.product.id, "price_unit": 5})],
                }
            )
            subscription.action_activate()
            ending = self._playbook("subscription_ending", trigger_days=30)
            self.assertEqual(self._reached(ending, today), self.customer)

        club = self.env["retention.club"].create({"name": "Trigger club", "policy": "invitation"})
        reached = self._playbook("club_reached", club_ids=[Command.set(club.ids)])
        lost = self._playbook("club_lost", club_ids=[Command.set(club.ids)])
        with freeze_time("2026-06-30"):
            membership = self.env["retention.club.membership"].create(
                {"partner_id": self.customer.id, "club_id": club.id, "date_start": today}
            )
            reached.last_evaluated = today - timedelta(days=1)
            self.assertEqual(self._reached(reached, today), self.customer)
            membership._cancel("Test")
            membership.state = "expired"
            lost.last_evaluated = today - timedelta(days=1)
            self.assertEqual(self._reached(lost, today), self.customer)
