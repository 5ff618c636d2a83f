from collections import defaultdict
from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .test_subscriptions import SubscriptionCase


@tagged("post_install", "-at_install")
class TestMrrMovements(SubscriptionCase):
    """MRR movements on a hand-built set of three subscriptions of 45.00 a
    month (2 x 20.00 + 5.00), over the last four months and this one (the
    reports read the database's date: months are taken around the real
    today).

    A: starts m4; 3 bags of coffee from m3 (65.00); paused m2; resumed m1.
    B: starts m3; no filters from m1 (40.00); closed this month.
    C: starts m2; 3 bags and back to 2 the same month."""

    def setUp(self):
        super().setUp()
        self.m0 = date.today().replace(day=1)
        self.m1, self.m2, self.m3, self.m4 = (
            self.m0 - relativedelta(months=n) for n in (1, 2, 3, 4)
        )
        self.manager = new_test_user(
            self.env, login="rl_mrr_manager", groups="sales_team.group_sale_manager"
        )

    def _commit_like(self):
        """What committing the transaction does: the MRR changes are logged
        then, and the reports (SQL views) read what was written."""
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _coffee(self, subscription):
        return subscription.line_ids.filtered(lambda line: line.product_id == self.coffee)

    def _build(self):
        with freeze_time(self.m4 + relativedelta(days=2)):
            a = self._subscription(self.m4)
        with freeze_time(self.m3 + relativedelta(days=5)):
            b = self._subscription(self.m3 + relativedelta(days=5))
            self._coffee(a).quantity = 3
            self._commit_like()
        with freeze_time(self.m2 + relativedelta(days=1)):
            a.action_pause()
            c = self._subscription(self.m2 + relativedelta(days=1))
        with freeze_time(self.m2 + relativedelta(days=8)):
            self._coffee(c).quantity = 3
            self._commit_like()
        with freeze_time(self.m2 + relativedelta(days=12)):
            self._coffee(c).quantity = 2
            self._commit_like()
        with freeze_time(self.m1 + relativedelta(days=3)):
            a.action_resume()
            b.line_ids.filtered(lambda line: line.product_id == self.filters).unlink()
            self._commit_like()
        b._close(self.reason)
        self._commit_like()
        return a, b, c

    def test_movements_month_by_month_add_up_to_the_mrr(self):
        a, b, c = self._build()
        self.assertEqual((a.mrr, b.mrr, c.mrr), (65.0, 40.0, 45.0))
        subscriptions = a | b | c
        Movement = self.env["retention.subscription.mrr.movement"].with_user(self.manager)
        rows = Movement.search_read(
            [("subscription_id", "in", subscriptions.ids)],
            ["month", "subscription_id", "kind", "amount"],
        )
        names = {a.id: "A", b.id: "B", c.id: "C"}
        found = sorted(
            (row["month"], names[row["subscription_id"][0]], row["kind"], row["amount"])
            for row in rows
        )
        self.assertEqual(
            found,
            sorted(
                [
                    (self.m4, "A", "new", 45.0),
                    (self.m3, "A", "expansion", 20.0),
                    (self.m3, "B", "new", 45.0),
                    (self.m2, "A", "churned", -65.0),
                    (self.m2, "C", "new", 45.0),
                    (self.m1, "A", "reactivated", 65.0),
                    (self.m1, "B", "contraction", -5.0),
                    (self.m0, "B", "churned", -40.0),
                ]
            ),
        )
        # Month by month, the movements so far add up to Subscriptions over
        # Time, and this month to the Active subscriptions of the list.
        Month = self.env["retention.subscription.month"].with_user(self.manager)
        mrr_by_month = defaultdict(float)
        for row in Month.search_read(
            [("subscription_id", "in", subscriptions.ids)], ["month", "mrr"]
        ):
            mrr_by_month[row["month"]] += row["mrr"]
        self.assertEqual(
            dict(mrr_by_month),
            {self.m4: 45.0, self.m3: 110.0, self.m2: 90.0, self.m1: 150.0, self.m0: 110.0},
        )
        running_total = 0.0
        for month in (self.m4, self.m3, self.m2, self.m1, self.m0):
            running_total += sum(row[3] for row in found if row[0] == month)
            self.assertEqual(running_total, mrr_by_month[month], month)
        active = self.Subscription.search(
            [("id", "in", subscriptions.ids), ("state", "=", "active")]
        )
        self.assertEqual(sum(active.mapped("mrr")), mrr_by_month[self.m0])

    def test_changes_in_one_transaction_make_one_event(self):
        subscription = self._subscription(self.m0)
        self._coffee(subscription).quantity = 3
        self._coffee(subscription).quantity = 4
        self._coffee(subscription).price_unit = 25.0
        self._commit_like()
        changes = subscription.event_ids.filtered(lambda event: event.kind == "change")
        self.assertEqual(len(changes), 1)
        self.assertEqual((changes.mrr_before, changes.mrr_after), (45.0, 105.0))
        # Undone before the commit: nothing happened.
        self._coffee(subscription).quantity = 5
        self._coffee(subscription).quantity = 4
        self._commit_like()
        self.assertEqual(len(subscription.event_ids.filtered(lambda e: e.kind == "change")), 1)

    def test_a_paused_subscription_changes_without_movement_until_it_resumes(self):
        subscription = self._subscription(self.m0)
        subscription.action_pause()
        self._coffee(subscription).quantity = 3
        self._commit_like()
        self.assertFalse(subscription.event_ids.filtered(lambda event: event.kind == "change"))
        subscription.action_resume()
        resumed = subscription.event_ids.filtered(lambda event: event.kind == "resume")
        self.assertEqual(resumed.mrr_after, 65.0)

    def test_a_salesperson_sees_the_movements_of_their_subscriptions_only(self):
        seller = new_test_user(
            self.env,
            login="rl_mrr_seller",
            groups="sales_team.group_sale_salesman,retention_loyalty.group_retention_user",
        )
        own = self._subscription(self.m0, user_id=seller.id)
        other = self._subscription(self.m0, user_id=self.manager.id)
        self._commit_like()
        Movement = self.env["retention.subscription.mrr.movement"].with_user(seller)
        seen = Movement.search([("subscription_id", "in", (own | other).ids)])
        self.assertEqual(seen.subscription_id, own)
