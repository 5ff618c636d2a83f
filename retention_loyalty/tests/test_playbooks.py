import hashlib
import threading
from datetime import date, timedelta

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .common import inventory_queries, make_order, make_product

PLAYBOOK_LOGGER = "odoo.addons.retention_loyalty.models.retention_playbook"


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

    def _order(self, partner=None, day=None, amount=50.0, confirm=True, **values):
        return make_order(
            self.env, partner or self.customer, self.product, amount, day, confirm, **values
        )

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
        self.assertEqual(len(self._activities(overdue)), 1)
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
        filters = self.env["product.product"].create(
            {"name": "Paper filters", "type": "service", "list_price": 3}
        )
        # Three customers buy the coffee and the filters, one something else:
        # customers who buy the one buy the other more than anyone.
        tea = self.env["product.product"].create({"name": "Tea", "type": "service"})
        make_order(
            self.env,
            self.env["res.partner"].create({"name": "Tea buyer"}),
            tea,
            4.0,
            date(2026, 5, 1),
        )
        for number in range(3):
            buyer = self.env["res.partner"].create({"name": f"Filters buyer {number}"})
            self._order(partner=buyer, day=date(2026, 5, 1))
            make_order(self.env, buyer, filters, 3.0, date(2026, 5, 2))
        self.env["retention.product.affinity"]._refresh_company(self.company)
        playbook = self.env.ref("retention_loyalty.playbook_thank_you")
        # Its 10 % control group depends on record ids: keep this customer out.
        playbook.write({"active": True, "control_percent": 0})
        playbook.action_ids.program_id.active = True
        self._order()
        run = self.Run.search([("playbook_id", "=", playbook.id)])
        self.assertEqual(run.card_id.expiration_date, date(2026, 7, 31))
        mail = self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        self.assertIn("Paper filters", mail.body_html)

    @freeze_time("2026-06-01")
    def test_the_run_records_the_value_of_the_voucher_and_points_handed_out(self):
        voucher = self.env["loyalty.program"].create(
            {
                "name": "15 off the next order",
                "program_type": "next_order_coupons",
                "trigger": "auto",
                "reward_ids": [
                    Command.create(
                        {"reward_type": "discount", "discount_mode": "per_order", "discount": 15}
                    )
                ],
            }
        )
        points = self.env["loyalty.program"].create(
            {
                "name": "Points worth 5 cents",
                "program_type": "loyalty",
                "trigger": "auto",
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount_mode": "per_point",
                            "discount": 0.05,
                            "required_points": 1,
                        }
                    )
                ],
            }
        )
        points.retention_redeem_reward_id = points.reward_ids
        playbook = self._playbook(
            actions=[
                Command.create({"kind": "coupon", "program_id": voucher.id, "validity_days": 60}),
                Command.create({"kind": "points", "program_id": points.id, "points": 40}),
            ]
        )
        self._order()
        run = self.Run.search([("playbook_id", "=", playbook.id)])
        # 15 for the voucher, 40 points x 0.05 = 2.
        self.assertAlmostEqual(run.incentive_cost, 17.0)

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
        # The control group as documented: the first 8 bytes of
        # sha256("<playbook id>:<partner id>"), read as a big-endian fraction
        # of 2**64, below the 50 % share.
        expected_control = customers.filtered(
            lambda partner: (
                int.from_bytes(
                    hashlib.sha256(f"{playbook.id}:{partner.id}".encode()).digest()[:8], "big"
                )
                < 2**63
            )
        )
        self.assertTrue(expected_control and expected_control != customers)
        self.assertEqual(control.partner_id, expected_control)
        self.assertEqual(len(control), len(expected_control))
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

    def test_effect_is_not_measured_before_the_window_has_passed(self):
        customers = self.env["res.partner"].create(
            [{"name": f"Window {index}", "user_id": self.salesman.id} for index in range(30)]
        )
        playbook = self._playbook(
            "overdue", control_percent=50, trigger_days=1, overdue_factor=0, effect_window_days=60
        )
        Effect = self.env["retention.playbook.effect"]
        with freeze_time("2026-06-01"):
            for customer in customers:
                self._order(partner=customer, day=date(2026, 3, 1))
            self.env["retention.customer.stat"]._recompute_company(
                self.company, today=date(2026, 6, 1)
            )
            runs = playbook._evaluate(date(2026, 6, 1))
            reached = runs.filtered(lambda run: not run.in_control)
            self.assertTrue(reached and reached != runs)
            # A reached customer reorders the same day: still no measure, not 0 % either.
            self._order(partner=reached[0].partner_id, day=date(2026, 6, 1), amount=80.0)
            self.assertRecordValues(
                Effect.search([("playbook_id", "=", playbook.id)]),
                [
                    {
                        "status": "open",
                        "reached": 0,
                        "control": 0,
                        "in_window": 30,
                        # 60 days after June 1st is July 31st, the window's last day.
                        "measurable_on": date(2026, 8, 1),
                    }
                ],
            )
            effect = Effect.search([("playbook_id", "=", playbook.id)])
            self.assertNotIn(effect, Effect.search([("status", "=", "measured")]))
            raw = self.env.execute_query(
                SQL(
                    "SELECT rate_uplift, reached_rate FROM %s AS effect WHERE id = %s",
                    Effect._table_sql,
                    effect.id,
                )
            )
            self.assertEqual(raw, [(None, None)], "no rate, rather than 0 %")
        # A report of another day is another query; the cache holds this day's.
        Effect.invalidate_model()
        with freeze_time("2026-07-31 23:00:00"):
            self.assertEqual(Effect.search([("playbook_id", "=", playbook.id)]).status, "open")
        Effect.invalidate_model()
        with freeze_time("2026-08-01"):
            effect = Effect.search([("playbook_id", "=", playbook.id)])
            self.assertRecordValues(
                effect,
                [
                    {
                        "status": "measured",
                        "reached": len(reached),
                        "control": len(runs) - len(reached),
                        "in_window": 0,
                        "measurable_on": False,
                        "reached_reordered": 1,
                        "control_reordered": 0,
                    }
                ],
            )
            self.assertAlmostEqual(effect.rate_uplift, 1 / len(reached))
            self.assertAlmostEqual(effect.revenue_uplift, 80.0 / len(reached))
            self.assertIn(effect, Effect.search([("status", "=", "measured")]))


@tagged("post_install", "-at_install")
class TestPlaybookRunState(PlaybookCase):
    @freeze_time("2026-06-01")
    def test_a_run_is_open_until_its_follow_up_is_done_or_cancelled(self):
        playbook = self._playbook()
        cancelled_customer = self.env["res.partner"].create(
            {"name": "Cancelled Call", "user_id": self.salesman.id}
        )
        template = self.env.ref("retention_loyalty.mail_template_playbook_thank_you")
        emailing = self._playbook(
            actions=[Command.create({"kind": "email", "mail_template_id": template.id})]
        )
        self._order()
        self._order(partner=cancelled_customer)
        run = self.Run.search(
            [("playbook_id", "=", playbook.id), ("partner_id", "=", self.customer.id)]
        )
        other = self.Run.search(
            [("playbook_id", "=", playbook.id), ("partner_id", "=", cancelled_customer.id)]
        )
        self.assertEqual((run.state, other.state), ("open", "open"), "the calls are not made yet")
        self.assertEqual(
            self.Run.search([("playbook_id", "=", emailing.id)]).mapped("state"),
            ["done", "done"],
            "an email is done when sent",
        )
        self._activities(playbook).with_user(self.salesman).action_feedback(feedback="Reordering")
        self.assertRecordValues(
            run,
            [
                {
                    "state": "done",
                    "activity_done_date": date(2026, 6, 1),
                    "activity_done_user_id": self.salesman.id,
                }
            ],
        )
        self._activities(playbook, cancelled_customer).with_user(self.salesman).action_cancel()
        self.assertRecordValues(
            other, [{"state": "cancelled", "activity_id": False, "activity_done_date": False}]
        )

    @freeze_time("2026-06-01")
    def test_run_now_counts_open_follow_ups_as_followed_up(self):
        customers = self.env["res.partner"].create(
            [{"name": f"Overdue {index}", "user_id": self.salesman.id} for index in range(3)]
        )
        for customer in customers:
            self._order(partner=customer, day=date(2026, 1, 5))
        self.env["retention.customer.stat"]._recompute_company(self.company, today=date(2026, 6, 1))
        playbook = self._playbook("overdue", trigger_days=30, overdue_factor=0)
        manager = new_test_user(
            self.env,
            login="rl_playbook_run_now",
            groups="sales_team.group_sale_manager,retention_loyalty.group_retention_manager",
        )
        action = playbook.with_user(manager).action_run_now()
        self.assertEqual(
            action["params"]["message"],
            "3 customer(s) followed up, 0 in the control group, 0 failed.",
        )
        self.assertEqual(
            self.Run.search([("playbook_id", "=", playbook.id)]).mapped("state"), ["open"] * 3
        )


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
        # Each playbook plans an activity: its note reads the points expiring soon.
        # One statement records the order's incentive costs and line costs.
        confirm_budget = 106 + inventory_queries(self.env)
        for partner, budget in ((warm, None), (short, confirm_budget), (long, confirm_budget)):
            order = self._order(partner=partner, confirm=False)
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
        self.assertEqual(len(self.Run.search([("partner_id", "in", (short | long).ids)])), 10)

    def test_daily_evaluation_queries_do_not_grow_with_customers(self):
        """The query budget of a time-based playbook's daily run: an activity
        for each overdue customer, in a fixed number of queries whether 6 or
        15 customers are due. Each run reaches customers new to the
        salesperson (who starts following them) and others already followed.
        Their points expiring soon are read for all of them at once."""
        today = date(2026, 6, 30)
        program = self.env["loyalty.program"].create(
            {
                "name": "Budget points",
                "program_type": "loyalty",
                "trigger": "auto",
                "retention_expiry_policy": "earned",
                "retention_expiry_months": 1,
            }
        )

        def overdue_customers(prefix, count):
            partners = self.env["res.partner"].create(
                [
                    {"name": f"{prefix} {index}", "user_id": self.salesman.id}
                    for index in range(count)
                ]
            )
            for partner in partners:
                for days_ago in (300, 270, 240):
                    self._order(partner=partner, day=today - timedelta(days=days_ago))
            self.env["retention.customer.stat"]._recompute_company(self.company, today=today)
            with freeze_time("2026-06-10"):  # expire on 2026-07-10
                self.env["loyalty.card"].create(
                    [
                        {"program_id": program.id, "partner_id": partner.id, "points": 20}
                        for partner in partners
                    ]
                )
            return partners

        def evaluate(budget=None):
            playbook = self._playbook("overdue", overdue_factor=3, trigger_days=0)
            self.env.flush_all()
            self.env.invalidate_all()
            with freeze_time(today):
                if budget is None:
                    return playbook._evaluate(today), None
                with self.assertQueryCount(budget):
                    before = self.env.cr.sql_log_count
                    runs = playbook._evaluate(today)
                    self.env.flush_all()
                    return runs, self.env.cr.sql_log_count - before

        warm = overdue_customers("Warm", 3)
        evaluate()  # warm-up
        few = warm | overdue_customers("Few", 3)
        few_runs, few_queries = evaluate(33)
        many = few | overdue_customers("Many", 9)
        many_runs, many_queries = evaluate(33)
        self.assertEqual(few_runs.partner_id, few)
        self.assertEqual(many_runs.partner_id, many)
        self.assertEqual(len(many_runs.activity_id), 15)
        for note in many_runs.activity_id.mapped("note"):
            self.assertIn("20 points expire on 2026-07-10", note)
        self.assertEqual(few_queries, many_queries)


@tagged("post_install", "-at_install")
class TestPlaybookOtherTriggers(PlaybookCase):
    def _reached(self, playbook, today):
        return (
            playbook._evaluate(today).filtered(lambda run: run.state in ("open", "done")).partner_id
        )

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


@tagged("post_install", "-at_install")
class TestPlaybookOrderHook(PlaybookCase):
    """Confirming an order looks the playbooks up, writes no configuration
    row, clears no cache and is never blocked by a playbook."""

    def _row_version(self, playbook):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT ctid::text FROM retention_playbook WHERE id = %s", [playbook.id]
        )
        return self.env.cr.fetchone()[0]

    @freeze_time("2026-06-01")
    def test_confirming_writes_no_playbook_and_clears_no_cache(self):
        playbook = self._playbook(cooldown_days=30)
        version = self._row_version(playbook)
        self.env.registry.cache_invalidated.clear()
        self._order()  # followed up
        self._order()  # in cool-down
        self.assertEqual(self.Run.search_count([("playbook_id", "=", playbook.id)]), 1)
        self.assertEqual(self._row_version(playbook), version)
        self.assertFalse(playbook.last_evaluated)
        self.assertFalse(self.env.registry.cache_invalidated)  # nothing to signal to workers

    @freeze_time("2026-06-01")
    def test_playbook_changes_are_seen_at_once_and_a_deleted_one_breaks_nothing(self):
        kept = self._playbook(cooldown_days=0, name="Kept")
        deleted = self._playbook(cooldown_days=0, name="Deleted")
        self._order()
        self.assertEqual(len(self.Run.search([("playbook_id", "in", (kept | deleted).ids)])), 2)
        self.env["mail.activity"].search([("retention_playbook_id", "!=", False)]).action_done()
        # Another company's sale in between: nothing to run there, but the
        # playbooks were looked up.
        sister = self.env["res.company"].create({"name": "Sister Hook Co"})
        self._order(company_id=sister.id)
        deleted.unlink()
        self.env.invalidate_all()  # the next request reads afresh
        order = self._order()
        self.assertEqual(order.state, "sale")
        self.assertEqual(self.Run.search_count([("playbook_id", "=", kept.id)]), 2)
        self.env["mail.activity"].search([("retention_playbook_id", "!=", False)]).action_done()
        kept.active = False
        self._order()
        self.assertEqual(self.Run.search_count([("playbook_id", "=", kept.id)]), 2)
        kept.active = True
        kept.trigger = "overdue"
        self._order()
        self.assertEqual(self.Run.search_count([("playbook_id", "=", kept.id)]), 2)
        added = self._playbook(cooldown_days=0, name="Added")
        self._order()
        self.assertEqual(self.Run.search_count([("playbook_id", "=", added.id)]), 1)

    @freeze_time("2026-06-01")
    def test_a_broken_playbook_never_blocks_a_sale(self):
        broken = self._playbook()
        # A filter on a field that is gone (its module was uninstalled).
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE retention_playbook SET partner_domain = %s, filters_customers = true "
            "WHERE id = %s",
            ["[('no_such_field', '=', 1)]", broken.id],
        )
        broken.invalidate_recordset(["partner_domain", "filters_customers"])
        with mute_logger(PLAYBOOK_LOGGER):
            order = self._order()
        self.assertEqual(order.state, "sale")
        self.assertFalse(self.Run.search([("playbook_id", "=", broken.id)]))

    @freeze_time("2026-06-01")
    def test_the_order_hook_costs_the_same_whatever_the_playbooks_and_orders(self):
        self.env["retention.playbook"].search([("trigger", "=", "order_confirmed")]).active = False
        customers = self.env["res.partner"].create(
            [{"name": f"Regular {index}", "user_id": self.salesman.id} for index in range(3)]
        )
        self._playbook(cooldown_days=30, name="Every")
        for customer in customers:
            self._order(partner=customer)  # followed up: in cool-down from now on

        def confirmed_orders(partners):
            orders = self.env["sale.order"].concat(
                *(self._order(partner=partner, confirm=False) for partner in partners)
            )
            orders.write({"state": "sale"})
            self.env.flush_all()
            self.env["retention.playbook"].invalidate_model()  # read by each request
            return orders

        Playbook = self.env["retention.playbook"]
        # The playbooks, a savepoint (2), the last runs and the open follow-ups
        # of all the candidates.
        orders = confirmed_orders(customers[0])
        with self.assertQueryCount(5):
            Playbook._run_for_orders(orders)
        self._playbook(cooldown_days=30, name="Every 2")
        self._playbook(cooldown_days=30, name="Every 3")
        self._playbook(cooldown_days=30, name="First", order_mode="first")
        self._playbook(cooldown_days=30, name="Tenth", order_mode="nth", order_number=10)
        for customer in customers:
            self._order(partner=customer)  # the new playbooks follow them up too
        runs_before = self.Run.search_count([])
        # One more for the customers' order ranks, whatever the playbooks and orders.
        orders = confirmed_orders(customers[0])
        with self.assertQueryCount(6):
            Playbook._run_for_orders(orders)
        orders = confirmed_orders(customers)
        with self.assertQueryCount(6):
            Playbook._run_for_orders(orders)
        self.assertEqual(self.Run.search_count([]), runs_before)

    @freeze_time("2026-06-01")
    def test_first_and_nth_orders_are_counted_per_company(self):
        sister = self.env["res.company"].create({"name": "Sister Retention Co"})
        self._order(day=date(2026, 5, 1), company_id=sister.id)
        self._order(day=date(2026, 5, 2), company_id=sister.id)
        first = self._playbook(order_mode="first", cooldown_days=0)
        second = self._playbook(order_mode="nth", order_number=2, cooldown_days=0)
        self._order()
        self.assertEqual(self.Run.search_count([("playbook_id", "=", first.id)]), 1)
        self.assertFalse(self.Run.search([("playbook_id", "=", second.id)]))
        self._order()
        self.assertEqual(self.Run.search_count([("playbook_id", "=", first.id)]), 1)
        self.assertEqual(self.Run.search_count([("playbook_id", "=", second.id)]), 1)


@tagged("post_install", "-at_install")
class TestPlaybookRightsAndSafety(PlaybookCase):
    def _points_program(self):
        return self.env["loyalty.program"].create(
            {"name": "Birthday points", "program_type": "loyalty", "trigger": "auto"}
        )

    @freeze_time("2026-06-01")
    def test_run_now_says_what_it_did(self):
        self.customer.retention_birthday = date(1980, 6, 1)
        control = self._playbook("birthday", trigger_days=0, cooldown_days=0, control_percent=50)
        action = control.action_run_now()
        run = self.Run.search([("playbook_id", "=", control.id)])
        self.assertEqual(len(run), 1)
        contacted, in_control = (0, 1) if run.in_control else (1, 0)
        self.assertEqual(
            action["params"]["message"],
            f"{contacted} customer(s) followed up, {in_control} in the control group, 0 failed.",
        )
        self.assertEqual(action["params"]["next"]["tag"], "soft_reload")
        nobody = self._playbook("birthday", trigger_days=3, cooldown_days=0)
        self.assertEqual(
            nobody.action_run_now()["params"]["message"], "No customer to follow up today."
        )

    def test_run_now_is_for_administrators_and_grants_once_a_day(self):
        program = self._points_program()
        self.customer.retention_birthday = date(1980, 6, 1)
        playbook = self._playbook(
            "birthday",
            trigger_days=0,
            cooldown_days=0,
            actions=[Command.create({"kind": "points", "program_id": program.id, "points": 500})],
        )
        retention_user = new_test_user(
            self.env,
            login="rl_playbook_retention_user",
            groups="base.group_user,retention_loyalty.group_retention_user",
        )
        manager = new_test_user(
            self.env,
            login="rl_playbook_manager",
            groups="base.group_user,retention_loyalty.group_retention_manager",
        )
        with freeze_time("2026-06-01"):
            for user in (retention_user, self.salesman):
                with self.assertRaises(AccessError):
                    playbook.with_user(user).with_context(
                        retention_ledger_posting=True, active_test=False
                    ).action_run_now()
            self.assertFalse(self.Run.search([("playbook_id", "=", playbook.id)]))
            action = playbook.with_user(manager).action_run_now()
            self.assertEqual(action["tag"], "display_notification")
            self.assertEqual(
                action["params"]["message"],
                "1 customer(s) followed up, 0 in the control group, 0 failed.",
            )
            self.assertEqual(action["params"]["type"], "success")
            with self.assertRaisesRegex(UserError, "already run today"):
                playbook.with_user(manager).action_run_now()
        cards = self.env["loyalty.card"].search([("program_id", "=", program.id)])
        self.assertEqual(cards.partner_id, self.customer)
        self.assertEqual(cards.points, 500)
        self.assertEqual(self.Run.search_count([("playbook_id", "=", playbook.id)]), 1)

    def test_actions_follow_their_company(self):
        sister = self.env["res.company"].create({"name": "Sister Playbook Co"})
        manager = new_test_user(
            self.env,
            login="rl_playbook_company_manager",
            groups="base.group_user,retention_loyalty.group_retention_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        theirs = self.env["retention.playbook"].create(
            {
                "name": "Sister playbook",
                "company_id": sister.id,
                "trigger": "overdue",
                "action_ids": [
                    Command.create({"kind": "activity", "activity_type_id": self.call.id})
                ],
            }
        )
        Action = self.env["retention.playbook.action"].with_user(manager)
        self.assertFalse(Action.search([("id", "in", theirs.action_ids.ids)]))
        with self.assertRaises(AccessError):
            Action.browse(theirs.action_ids.ids).read(["kind"])
        sister_program = self.env["loyalty.program"].create(
            {
                "name": "Sister points",
                "program_type": "loyalty",
                "trigger": "auto",
                "company_id": sister.id,
            }
        )
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self._playbook(
                actions=[
                    Command.create(
                        {"kind": "points", "program_id": sister_program.id, "points": 10}
                    )
                ]
            )

    @freeze_time("2026-06-01")
    def test_customer_names_are_escaped_in_activity_notes(self):
        playbook = self._playbook()
        hostile = self.env["res.partner"].create(
            {"name": "<img src=x onerror=alert(1)>", "user_id": self.salesman.id}
        )
        self._order(partner=hostile)
        note = str(self._activities(playbook, hostile).note)
        self.assertIn("Call &lt;img src=x onerror=alert(1)&gt;: bought Playbook Coffee", note)
        self.assertNotIn("<img", note)


@tagged("post_install", "-at_install")
class TestPlaybookCron(PlaybookCase):
    def _run_cron(self, times=4):
        for _call in range(times):  # one playbook per call, as the cron reruns itself
            self.env["retention.playbook"]._cron_evaluate()

    def test_a_failing_playbook_does_not_hold_back_the_others(self):
        self.customer.retention_birthday = date(1980, 6, 1)
        broken = self._playbook("birthday", trigger_days=0, sequence=1, name="Broken")
        working = self._playbook("birthday", trigger_days=0, sequence=2, name="Working")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE retention_playbook SET partner_domain = %s, filters_customers = true "
            "WHERE id = %s",
            ["[('no_such_field', '=', 1)]", broken.id],
        )
        broken.invalidate_recordset(["partner_domain", "filters_customers"])
        (broken | working).last_evaluated = date(2026, 5, 31)
        with freeze_time("2026-06-01"), mute_logger(PLAYBOOK_LOGGER):
            self._run_cron()
        self.assertEqual(len(self._activities(working)), 1)
        self.assertFalse(self._activities(broken))
        self.assertRecordValues(
            broken, [{"last_evaluated": date(2026, 5, 31), "last_failed_on": date(2026, 6, 1)}]
        )
        self.assertIn("no_such_field", broken.last_error)
        self.assertEqual(working.last_evaluated, date(2026, 6, 1))
        # Fixed, it catches up the missed day the next day.
        broken.partner_domain = "[]"
        with freeze_time("2026-06-02"):
            self._run_cron()
        self.assertEqual(len(self._activities(broken)), 1)
        self.assertRecordValues(
            broken,
            [{"last_evaluated": date(2026, 6, 2), "last_failed_on": False, "last_error": False}],
        )

    def test_missed_cron_days_are_caught_up_once(self):
        self.customer.retention_birthday = date(1980, 6, 5)
        birthday = self._playbook("birthday", trigger_days=0, cooldown_days=0)
        delayed = self._playbook(order_delay_days=7, cooldown_days=0)
        with freeze_time("2026-06-01 10:00:00"):
            order = self._order()
        (birthday | delayed).last_evaluated = date(2026, 6, 3)  # no cron from the 4th
        with freeze_time("2026-06-10"):
            self._run_cron()
            self._run_cron()
            with self.assertRaisesRegex(UserError, "already run today"):
                birthday.action_run_now()
            # Evaluated again for a covered day, nobody is followed up twice.
            self.assertFalse(birthday._evaluate(date(2026, 6, 10)))
            self.assertFalse(delayed._evaluate(date(2026, 6, 10)))
        self.assertEqual(self.Run.search_count([("playbook_id", "=", birthday.id)]), 1)
        self.assertEqual(self.Run.search([("playbook_id", "=", delayed.id)]).order_id, order)
        with freeze_time("2026-06-11"):
            self._run_cron()
        self.assertEqual(
            self.Run.search_count([("playbook_id", "in", (birthday | delayed).ids)]), 2
        )

    def test_delayed_first_order_playbook_follows_first_orders_only(self):
        delayed_first = self._playbook(order_delay_days=7, order_mode="first", cooldown_days=0)
        self._order(day=date(2026, 5, 1))
        with freeze_time("2026-06-01 10:00:00"):
            self._order()
        newcomer = self.env["res.partner"].create({"name": "Newcomer", "user_id": self.salesman.id})
        with freeze_time("2026-06-01 11:00:00"):
            self._order(partner=newcomer)
        with freeze_time("2026-06-08"):
            self._run_cron()
        self.assertEqual(
            self.Run.search([("playbook_id", "=", delayed_first.id)]).partner_id, newcomer
        )


@tagged("post_install", "-at_install")
class TestPlaybookConcurrency(TransactionCase):
    """Two real transactions confirm orders of two customers with the same
    active order playbook at the same time: both commit, one run each."""

    def _env(self, cursor):
        # The test runner holds the registry lock: give threads the registry.
        cursor.transaction = cursor.transaction or api.Transaction(self.registry)
        return api.Environment(cursor, SUPERUSER_ID, {"tracking_disable": True})

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cursor:
            env = self._env(cursor)
            product = make_product(env, "Concurrent playbook coffee", 20.0)
            playbook = env["retention.playbook"].create(
                {
                    "name": "Concurrent thank you",
                    "trigger": "order_confirmed",
                    "control_percent": 0,
                    "action_ids": [
                        Command.create(
                            {
                                "kind": "activity",
                                "activity_type_id": env.ref("mail.mail_activity_data_call").id,
                                "assignee": "user",
                                "user_id": env.ref("base.user_admin").id,
                            }
                        )
                    ],
                }
            )
            partners = env["res.partner"].create(
                [{"name": f"Concurrent buyer {index}"} for index in range(2)]
            )
            orders = env["sale.order"].concat(
                *(make_order(env, partner, product, 20.0, confirm=False) for partner in partners)
            )
            self.playbook_id, self.order_ids = playbook.id, orders.ids
            self.addCleanup(self._remove, playbook.id, orders.ids, partners.ids, product.id)

    def _remove(self, playbook_id, order_ids, partner_ids, product_id):
        with self.registry.cursor() as cursor:
            env = self._env(cursor)
            env["mail.activity"].search([("retention_playbook_id", "=", playbook_id)]).unlink()
            env["retention.playbook"].browse(playbook_id).unlink()
            for table, column in (("mail_message", "model"), ("mail_followers", "res_model")):
                cursor.execute(
                    f"DELETE FROM {table} WHERE {column} = 'sale.order' AND res_id IN %s",
                    [tuple(order_ids)],
                )
            cursor.execute("DELETE FROM sale_order WHERE id IN %s", [tuple(order_ids)])
            env["res.partner"].browse(partner_ids).unlink()
            env["product.product"].browse(product_id).product_tmpl_id.unlink()

    def test_two_customers_confirm_at_the_same_time(self):
        started = threading.Barrier(2, timeout=30)
        errors = []

        def confirm(order_id):
            try:
                with self.registry.cursor() as cursor:
                    cursor.execute("SELECT 1")  # both snapshots are taken before either commits
                    started.wait()
                    self._env(cursor)["sale.order"].browse(order_id).action_confirm()
            except Exception as error:  # pylint: disable=broad-except
                errors.append(error)

        threads = [
            threading.Thread(target=confirm, args=(order_id,)) for order_id in self.order_ids
        ]
        with mute_logger("odoo.sql_db"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.assertEqual(errors, [])
        with self.registry.cursor() as cursor:
            env = self._env(cursor)
            orders = env["sale.order"].browse(self.order_ids)
            self.assertEqual(orders.mapped("state"), ["sale", "sale"])
            runs = env["retention.playbook.run"].search([("playbook_id", "=", self.playbook_id)])
            self.assertEqual(sorted(runs.order_id.ids), sorted(self.order_ids))
            self.assertEqual(len(runs.activity_id), 2)
