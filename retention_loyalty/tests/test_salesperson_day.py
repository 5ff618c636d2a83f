from datetime import date

from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_playbooks import PlaybookCase

FOLLOWUPS_ACTION = "retention_loyalty.mail_activity_action_retention_followups"


@tagged("post_install", "-at_install")
class TestFollowupScreens(PlaybookCase):
    """What a salesperson sees of their follow-ups: the list and the kanban
    open the customer and show what a call needs."""

    def _views(self, user, action_xmlid):
        action = self.env.ref(action_xmlid)
        result = self.env[action.res_model].with_user(user).get_views(action.views)
        return {kind: etree.fromstring(view["arch"]) for kind, view in result["views"].items()}

    def test_list_and_kanban_open_the_customer_and_show_how_to_reach_them(self):
        action = self.env.ref(FOLLOWUPS_ACTION)
        self.assertEqual([mode for _view, mode in action.views], ["list", "kanban", "calendar"])
        self.assertNotIn("form", action.view_mode.split(","), "no bare activity form")
        views = self._views(self.salesman, FOLLOWUPS_ACTION)
        listing, kanban = views["list"], views["kanban"]
        for root in (listing, kanban):
            self.assertEqual(
                (root.get("action"), root.get("type")),
                ("action_retention_open_customer", "object"),
                f"a click on a {root.tag} row opens the customer",
            )
        widgets = {field.get("name"): field.get("widget") for field in listing.iter("field")}
        self.assertEqual(widgets.get("retention_partner_phone"), "phone")
        self.assertEqual(widgets.get("retention_partner_email"), "email")
        self.assertNotIn("summary", widgets, "the playbook column says it already")
        done = listing.xpath("//button[@name='action_retention_log_outcome']")
        self.assertTrue(done, "Mark Done asks for the outcome")
        self.assertFalse(listing.xpath("//button[@name='action_done']"))
        kanban_fields = {field.get("name") for field in kanban.iter("field")}
        self.assertLessEqual(
            {
                "retention_partner_id",
                "retention_value_tier_id",
                "retention_risk_level",
                "retention_value_at_stake",
            },
            kanban_fields,
        )

    @freeze_time("2026-06-01")
    def test_a_follow_up_opens_its_customer_with_their_phone_and_email(self):
        self.customer.write({"phone": "+32 2 555 01 01", "email": "followed@example.com"})
        self._playbook()
        self._order()
        activity = (
            self.env["mail.activity"]
            .with_user(self.salesman)
            .search([("retention_playbook_id", "!=", False), ("user_id", "=", self.salesman.id)])
        )
        self.assertRecordValues(
            activity,
            [
                {
                    "retention_partner_id": self.customer.id,
                    "retention_partner_phone": "+32 2 555 01 01",
                    "retention_partner_email": "followed@example.com",
                }
            ],
        )
        opened = activity.action_retention_open_customer()
        self.assertEqual((opened["res_model"], opened["res_id"]), ("res.partner", self.customer.id))


@tagged("post_install", "-at_install")
class TestFollowupOutcome(PlaybookCase):
    """Mark Done asks for the outcome, which lands in the customer's chatter,
    and offers the next step, which stays a follow-up of the playbook."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Scheduling an activity on a customer takes the right to edit
        # contacts, which Odoo gives every new internal user.
        cls.salesman.groups_id += cls.env.ref("base.group_partner_manager")

    def _followup(self):
        playbook = self._playbook()
        self._order()
        activity = self._activities(playbook)
        self.assertEqual(len(activity), 1)
        return playbook, activity.with_user(self.salesman)

    def _chatter(self):
        return self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )

    @freeze_time("2026-06-01")
    def test_mark_done_asks_for_the_outcome_and_offers_the_next_step(self):
        playbook, activity = self._followup()
        dialog = activity.action_retention_log_outcome()
        self.assertEqual(dialog["target"], "new")
        self.assertEqual(dialog["res_id"], activity.id)
        self.assertEqual(
            dialog["views"],
            [(self.env.ref("retention_loyalty.mail_activity_view_form_retention").id, "form")],
        )
        with self.assertRaisesRegex(UserError, "outcome"):
            activity.action_retention_done_schedule_next()
        self.assertTrue(activity.exists(), "nothing happens without an outcome")
        activity.retention_outcome = "Voicemail; they reorder next week"
        schedule = activity.action_retention_done_schedule_next()
        self.assertFalse(activity.exists())
        self.assertIn(
            "Voicemail; they reorder next week",
            "".join(self._chatter().mapped("body")),
            "the outcome is in the customer's chatter",
        )
        context = schedule["context"]
        self.assertEqual(
            (schedule["res_model"], schedule["target"], context["default_res_id"]),
            ("mail.activity", "new", self.customer.id),
        )
        # The next step, scheduled in Odoo's dialog, is still the playbook's follow-up.
        following = (
            self.env["mail.activity"]
            .with_user(self.salesman)
            .with_context(**context)
            .create({"summary": "Call back", "date_deadline": date(2026, 6, 8)})
        )
        self.assertEqual(following.retention_playbook_id, playbook)
        self.assertEqual(following.user_id, self.salesman)
        self.assertEqual(self._activities(playbook), following)

    @freeze_time("2026-06-01")
    def test_done_logs_the_outcome_and_credits_the_salesperson(self):
        playbook, activity = self._followup()
        with self.assertRaisesRegex(UserError, "outcome"):
            activity.action_retention_done()
        activity.retention_outcome = "Ordered three bags"
        self.assertFalse(activity.action_retention_done(), "closes the dialog")
        self.assertFalse(self._activities(playbook))
        self.assertIn("Ordered three bags", "".join(self._chatter().mapped("body")))
        run = self.Run.search([("playbook_id", "=", playbook.id)])
        self.assertEqual(
            (run.activity_done_date, run.activity_done_user_id),
            (date(2026, 6, 1), self.salesman),
        )

    @freeze_time("2026-06-01")
    def test_chatter_done_and_schedule_next_keeps_the_playbook(self):
        """The customer's chatter (Odoo's Mark Done popover) calls
        action_feedback_schedule_next with the typed feedback."""
        playbook, activity = self._followup()
        schedule = activity.action_feedback_schedule_next(feedback="Not now; in March")
        self.assertIn("Not now; in March", "".join(self._chatter().mapped("body")))
        self.assertEqual(schedule["context"]["default_retention_playbook_id"], playbook.id)

    @freeze_time("2026-06-01")
    def test_a_next_step_odoo_chains_itself_stays_a_follow_up(self):
        visit = self.env["mail.activity.type"].create({"name": "Visit after the call"})
        call_then_visit = self.env["mail.activity.type"].create(
            {
                "name": "Call, then visit",
                "chaining_type": "trigger",
                "triggered_next_type_id": visit.id,
            }
        )
        playbook = self._playbook(
            actions=[Command.create({"kind": "activity", "activity_type_id": call_then_visit.id})]
        )
        self._order()
        activity = self._activities(playbook).with_user(self.salesman)
        activity.retention_outcome = "Agreed on a visit"
        self.assertFalse(activity.action_retention_done_schedule_next(), "Odoo chained it")
        self.assertEqual(self._activities(playbook).activity_type_id, visit)


@tagged("post_install", "-at_install")
class TestFollowupNoteExpiringPoints(PlaybookCase):
    """The note of a follow-up says which points are about to expire, read for
    all the customers of a run at once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = cls.env["loyalty.program"].create(
            {
                "name": "Note points",
                "program_type": "loyalty",
                "trigger": "auto",
                "retention_expiry_policy": "earned",
                "retention_expiry_months": 1,
            }
        )

    def _card(self, partner, points, day):
        with freeze_time(day):
            return self.env["loyalty.card"].create(
                {"program_id": self.program.id, "partner_id": partner.id, "points": points}
            )

    def test_note_says_how_many_points_expire_and_when(self):
        Partner = self.env["res.partner"]
        soon = self.customer
        company = Partner.create({"name": "Note Company", "is_company": True})
        contact = Partner.create({"name": "Note Contact", "parent_id": company.id})
        later = Partner.create({"name": "Note Later"})
        without = Partner.create({"name": "Note Without"})
        self._card(soon, 145, "2026-11-07")  # expire 2026-12-07
        self._card(soon, 30, "2026-11-20")  # expire 2026-12-20: not the next
        self._card(contact, 60, "2026-11-10")  # a contact's card counts for the company
        self._card(later, 80, "2026-12-03")  # expire 2027-01-03: beyond 30 days
        playbook = self._playbook("overdue")
        today = date(2026, 12, 3)
        with freeze_time(today):
            playbook._follow_up(
                {playbook: dict.fromkeys((soon | company | later | without).ids, False)}, today
            )
        notes = {
            partner: str(self._activities(playbook, partner).note)
            for partner in (soon, company, later, without)
        }
        self.assertIn("145 points expire on 2026-12-07", notes[soon])
        self.assertNotIn("30 points", notes[soon])
        self.assertIn("60 points expire on 2026-12-10", notes[company])
        self.assertNotIn("expire", notes[later])
        self.assertNotIn("expire", notes[without])

    def test_points_expiring_playbook_mentions_its_own_window(self):
        self._card(self.customer, 50.5, "2026-11-20")  # expire 2026-12-20
        playbook = self._playbook("points_expiring", trigger_days=20)
        with freeze_time("2026-12-03"):
            playbook._evaluate(date(2026, 12, 3))
        self.assertIn("50.5 points expire on 2026-12-20", str(self._activities(playbook).note))


@tagged("post_install", "-at_install")
class TestMyCustomers(PlaybookCase):
    def test_customers_open_on_my_customers_and_the_filter_can_be_removed(self):
        action = self.env.ref("retention_loyalty.retention_customer_stat_action")
        values = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_customer_stat_action"
        )
        self.assertIn("'search_default_my_customers': 1", values["context"])
        search = etree.fromstring(
            self.env["retention.customer.stat"]
            .with_user(self.salesman)
            .get_views([(action.search_view_id.id or False, "search")])["views"]["search"]["arch"]
        )
        my_filter = search.xpath("//filter[@name='my_customers']")
        self.assertEqual(my_filter[0].get("domain"), "[('user_id', '=', uid)]")
        # A tier's customers (from the tier's settings) are all of them.
        tier = self.env["retention.value.tier"]._ensure_company_tiers(self.company)[0]
        self.assertNotIn("my_customers", str(tier.action_view_customers()["context"]))
