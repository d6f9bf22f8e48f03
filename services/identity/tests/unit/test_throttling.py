"""Login throttling: a sliding window of failures per key."""

from datetime import UTC, datetime, timedelta

from identity.domain.throttling import (
    WINDOW,
    ThrottlePolicy,
    account_bound,
    account_key,
    retry_after,
    slowdown,
)

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


def test_an_account_is_slowed_down_progressively_and_never_longer_than_the_cap():
    policy = ThrottlePolicy()
    failures = [NOW] * 20

    waits = []
    for excess in range(10):
        waits.append(slowdown(failures + [NOW] * excess, policy, now=NOW))

    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert slowdown([NOW] * 19, policy, now=NOW) is None


def test_guessing_on_one_account_stays_within_the_stated_bound_however_many_clients_try():
    policy = ThrottlePolicy()
    # An attacker with endless addresses tries every tenth of a second for an hour; each try
    # the slowdown lets through is a failure.
    failures: list[datetime] = []
    start = NOW
    for tick in range(36_000):
        now = start + timedelta(seconds=tick / 10)
        if slowdown(failures, policy, now=now) is None:
            failures.append(now)

    most_in_a_window = max(
        sum(1 for at in failures if first <= at < first + policy.window) for first in failures
    )
    assert account_bound(policy) == 41
    assert most_in_a_window <= account_bound(policy)
    assert len(failures) <= 4 * account_bound(policy)
