from odoo import models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..engine.recurrence import Recurrence, Schedule, parse_recurrences


class RetentionSubscription(models.Model):
    """Changing the recurrence of a running subscription, from its next
    period on. Each order stays the same (quantities and prices): it only
    comes more or less often, so the MRR follows (monthly 30.00 becoming
    quarterly is 30.00 a quarter: MRR 10.00). The periods already ordered
    keep their numbers and dates (see :class:`Schedule`)."""

    _inherit = "retention.subscription"  # pylint: disable=consider-merging-classes-inherited

    def _allowed_recurrences(self):
        """The recurrences the company lets its customers choose."""
        self.ensure_one()
        try:
            return parse_recurrences(self.company_id.retention_portal_recurrences)
        except ValueError:
            return []

    def _recurrence_label_of(self, recurrence):
        return self.new(
            {"interval": recurrence.interval, "interval_unit": recurrence.unit}
        )._recurrence_label()

    def _recurrence_change_refusal(self, recurrence, allowed=None):
        """Why the recurrence cannot become ``recurrence`` now (False when it
        can); ``allowed``: the recurrences to choose from, if limited."""
        self.ensure_one()
        if self.state != "active" or not self.next_date:
            return self.env._("Only running subscriptions can change their recurrence.")
        try:
            recurrence.validate()
        except ValueError:
            return self.env._("This is not a recurrence.")
        if allowed is not None and recurrence not in allowed:
            return self.env._(
                "This recurrence is not offered. You can choose: %(choices)s.",
                choices=", ".join(self._recurrence_label_of(choice) for choice in allowed),
            )
        if recurrence == self._recurrence().recurrence:
            return self.env._("The subscription already recurs this way.")
        if self.next_date <= self._today():
            return self.env._(
                "The order of %(day)s is due: change the recurrence once it is made.",
                day=format_date(self.env, self.next_date),
            )
        if self._has_unpaid_period():
            return self.env._(
                "A payment of this subscription is still open: the recurrence can change once "
                "it is paid."
            )
        last = self._last_period_start()
        if last is not None and self.next_date > last:
            return self.env._("There is no order left to change.")
        return False

    def _has_unpaid_period(self):
        """A charge not paid (waiting, failed, given up), or the invoice of
        the current period posted and not paid."""
        self.ensure_one()
        if self.sudo().charge_ids.filtered(lambda charge: charge.state != "done"):
            return True
        return bool(
            self.env["account.move"]
            .sudo()
            .search_count(
                [
                    ("retention_subscription_id", "=", self.id),
                    ("retention_subscription_period", "=", self.next_period - 1),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                ],
                limit=1,
            )
        )

    def _change_recurrence(self, recurrence, allowed=None, author=None):
        """Recur every ``recurrence`` (:class:`Recurrence`) from the next
        period on: the next order keeps its date and starts the first period
        of the new length. The MRR change is logged when the transaction
        commits; the change in the chatter, by ``author`` (a partner) when
        given. Raise UserError with the reason when refused."""
        self.ensure_one()
        refusal = self._recurrence_change_refusal(recurrence, allowed)
        if refusal:
            raise UserError(refusal)
        before = self.recurrence_label
        schedule = self._recurrence().change(recurrence, self.next_period)
        self.write(
            {
                "interval": recurrence.interval,
                "interval_unit": recurrence.unit,
                "recurrence_schedule": schedule.as_dicts() if schedule.changed else False,
            }
        )
        following = schedule.period_start(self.date_start, self.next_period + 1)
        self.message_post(
            body=self.env._(
                "Recurrence changed from %(before)s to %(after)s: the order of %(day)s starts the "
                "first new period, the next one is on %(following)s.",
                before=before.lower(),
                after=self.recurrence_label.lower(),
                day=format_date(self.env, self.next_date),
                following=format_date(self.env, following),
            ),
            author_id=author.id if author else None,
        )

    def _check_schedule_keeps_the_past(self, vals):
        """A started subscription's recurrence changes from its next period
        on: the periods up to it keep their dates (their orders, invoices
        and charges are numbered by period)."""
        refusal = self.env._(
            "The recurrence of a started subscription changes from its next order on: use "
            "Change Recurrence."
        )
        if "recurrence_schedule" not in vals:
            raise UserError(refusal)
        for subscription in self:
            if vals.get("recurrence_schedule"):
                new = Schedule.from_dicts(vals["recurrence_schedule"])
            else:
                new = Schedule.single(
                    Recurrence(
                        vals.get("interval", subscription.interval),
                        vals.get("interval_unit", subscription.interval_unit),
                    ),
                    subscription.date_start,
                )
            old = subscription._recurrence()
            start = subscription.date_start
            try:
                kept = all(
                    new.period_start(start, period) == old.period_start(start, period)
                    for period in range(subscription.next_period + 1)
                )
            except ValueError:
                kept = False
            if not kept:
                raise UserError(refusal)

    def action_change_recurrence(self):
        self.ensure_one()
        return {
            "name": self.env._("Change Recurrence"),
            "type": "ir.actions.act_window",
            "res_model": "retention.subscription.recurrence.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_subscription_id": self.id},
        }
