"""Login throttling: a sliding window of failures per key."""

from datetime import UTC, datetime, timedelta

from identity.domain.throttling import WINDOW, account_key, retry_after

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_below_the_limit_attempts_are_allowed():
    assert retry_after(minutes_ago(*range(9)), limit=10, window=WINDOW, now=NOW) is None


def test_at_the_limit_the_wait_lasts_until_the_oldest_counted_failure_leaves_the_window():
    failures = minutes_ago(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)

    assert retry_after(failures, limit=10, window=WINDOW, now=NOW) == 5 * 60


def test_failures_outside_the_window_do_not_count():
    failures = minutes_ago(1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16)

    assert retry_after(failures, limit=10, window=WINDOW, now=NOW) is None


def test_the_wait_is_at_least_a_second():
    failures = [NOW - WINDOW + timedelta(milliseconds=10)] * 3

    assert retry_after(failures, limit=3, window=WINDOW, now=NOW) == 1


def test_the_account_key_ignores_case_and_blanks():
    assert account_key(" Ada@Example.org ") == account_key("ada@example.org")
