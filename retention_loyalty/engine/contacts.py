"""Contact with customers, on plain values: a customer's latest touch among
orders, done activities, messages and events, and how many customers were
contacted within their contact cadence (coverage).

A touch is anything the business did with the customer: an order, an
activity marked done (call, meeting, e-mail, to-do), a message or e-mail sent
from the chatter, attendance at an event.
"""

from dataclasses import dataclass
from datetime import date, timedelta

# On one day, the touch that says most about the relationship is shown:
# a conversation before an event, an event before an order.
KIND_RANK = {"activity": 3, "message": 2, "event": 1, "order": 0}


@dataclass(frozen=True)
class Touch:
    day: date
    kind: str
    user_id: int | None = None
    label: str = ""

    def rank(self):
        return (self.day, KIND_RANK[self.kind])


def latest_touch(touches):
    """The most recent of ``touches`` (None when there is none)."""
    return max(touches, key=Touch.rank, default=None)


def contacted_within(last_contact, today, cadence_days):
    """Was the customer touched within the last ``cadence_days`` days?"""
    return last_contact is not None and today - last_contact <= timedelta(days=cadence_days)


def coverage(customers, today):
    """``customers``: (group, last contact day or None, cadence in days or
    None/0). Returns {group: (contacted within the cadence, customers with a
    cadence)}; customers without a cadence are not counted."""
    result = {}
    for group, last_contact, cadence_days in customers:
        if not cadence_days:
            continue
        covered, total = result.get(group, (0, 0))
        covered += contacted_within(last_contact, today, cadence_days)
        result[group] = (covered, total + 1)
    return result
