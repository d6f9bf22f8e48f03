"""A repeating condition is logged once per interval, with how many lines were folded."""

from structlog.testing import capture_logs

from shared.logging import RateLimitedLog, get_logger


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def limiter(clock):
    return RateLimitedLog(get_logger("tests"), interval_s=10.0, clock=clock)


def test_the_first_occurrence_is_written_at_once_and_repeats_within_the_interval_are_held_back():
    clock = Clock()
    log = limiter(clock)
    with capture_logs() as lines:
        assert log.warning("broker error", error="refused")
        for _ in range(19):  # every half second for ten seconds, less a tick
            clock.now += 0.5
            assert not log.warning("broker error", error="refused")
    assert lines == [{"event": "broker error", "error": "refused", "log_level": "warning"}]
    assert log.held_back == 19


def test_the_next_line_after_the_interval_says_how_many_were_held_back():
    clock = Clock()
    log = limiter(clock)
    with capture_logs() as lines:
        log.warning("broker error")
        for _ in range(25):
            clock.now += 0.5
            log.warning("broker error")
    assert [line.get("repeated") for line in lines] == [None, 19]  # the second at 10 s
    assert log.held_back == 5


def test_settling_reports_the_held_back_count_and_lets_the_next_episode_through_at_once():
    clock = Clock()
    log = limiter(clock)
    with capture_logs() as lines:
        log.warning("broker error")
        clock.now += 1
        log.warning("broker error")
        log.settle("broker back")
        clock.now += 1
        log.warning("broker error")  # a new outage: written at once
    assert [(line["event"], line["log_level"], line.get("repeated")) for line in lines] == [
        ("broker error", "warning", None),
        ("broker back", "info", 1),
        ("broker error", "warning", None),
    ]


def test_settling_without_anything_held_back_adds_no_count():
    log = limiter(Clock())
    with capture_logs() as lines:
        log.settle("broker back")
    assert lines == [{"event": "broker back", "log_level": "info"}]
