from datetime import date

import pytest

from retention_loyalty.engine.dunning import next_retry, parse_retry_days


def test_retry_days_are_read_from_the_setting():
    assert parse_retry_days("1,3,7") == [1, 3, 7]
    assert parse_retry_days(" 2 , 5 ") == [2, 5]
    assert parse_retry_days("") == []


@pytest.mark.parametrize("text", ["1,,3", "0,2", "-1", "3,1", "2,2", "a", "1.5"])
def test_bad_retry_days_are_refused(text):
    with pytest.raises(ValueError):
        parse_retry_days(text)


def test_retries_fall_after_the_first_failure_until_the_schedule_ends():
    first = date(2026, 6, 1)
    assert next_retry(first, 0, [1, 3, 7]) == date(2026, 6, 2)
    assert next_retry(first, 1, [1, 3, 7]) == date(2026, 6, 4)
    assert next_retry(first, 2, [1, 3, 7]) == date(2026, 6, 8)
    assert next_retry(first, 3, [1, 3, 7]) is None
    assert next_retry(first, 0, []) is None


def test_a_retry_day_already_past_moves_to_the_next_day():
    first = date(2026, 6, 1)
    # Retried late, on the 10th: the next retry (due the 4th) is the 11th.
    assert next_retry(first, 1, [1, 3, 7], today=date(2026, 6, 10)) == date(2026, 6, 11)
    # On time, the schedule stands.
    assert next_retry(first, 1, [1, 3, 7], today=date(2026, 6, 2)) == date(2026, 6, 4)
    assert next_retry(first, 3, [1, 3, 7], today=date(2026, 6, 10)) is None
