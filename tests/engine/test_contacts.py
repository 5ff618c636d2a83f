from datetime import date

from retention_loyalty.engine.contacts import Touch, contacted_within, coverage, latest_touch

TODAY = date(2026, 6, 30)


def test_latest_touch_is_the_most_recent_day():
    touches = [
        Touch(date(2026, 5, 1), "order", 7),
        Touch(date(2026, 6, 2), "message", 8),
        Touch(date(2026, 4, 20), "activity", 9, "Call"),
    ]
    assert latest_touch(touches) == Touch(date(2026, 6, 2), "message", 8)


def test_on_one_day_a_conversation_says_more_than_an_order():
    order = Touch(date(2026, 6, 2), "order", 7)
    call = Touch(date(2026, 6, 2), "activity", 8, "Call")
    event = Touch(date(2026, 6, 2), "event")
    assert latest_touch([order, call, event]) == call
    assert latest_touch([order, event]) == event


def test_no_touch_at_all():
    assert latest_touch([]) is None


def test_contacted_within_counts_the_boundary_day():
    assert contacted_within(date(2026, 5, 31), TODAY, 30)
    assert not contacted_within(date(2026, 5, 30), TODAY, 30)
    assert not contacted_within(None, TODAY, 30)


def test_coverage_per_group_leaves_out_customers_without_cadence():
    customers = [
        ("alice", date(2026, 6, 20), 30),  # covered
        ("alice", date(2026, 3, 1), 30),  # lapsed
        ("alice", None, 90),  # never contacted
        ("alice", date(2026, 1, 1), None),  # no cadence: not counted
        ("bruno", date(2026, 4, 15), 90),  # covered
        ("bruno", date(2026, 6, 29), 0),  # cadence 0 means none
    ]
    assert coverage(customers, TODAY) == {"alice": (1, 3), "bruno": (1, 1)}
