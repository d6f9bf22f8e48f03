"""Token verification reads the key ring on every request without a stat() of the key file
each time: the file is looked at once a second, at once for a kid not known yet, and at once
for signing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from services.identity.tests.unit.fakes import SteppingClock

from identity.adapters.crypto.signing_keys import RECHECK_S, FileSigningKeys
from identity.adapters.crypto.verification import OwnKeys

OVERLAP = timedelta(hours=1)


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "identity-keys"


@pytest.fixture
def running(directory, clock, monotonic) -> FileSigningKeys:
    return FileSigningKeys(directory, clock=clock, monotonic=monotonic)


@pytest.fixture
def stats(monkeypatch, directory) -> list[Path]:
    """The stat() calls made on the key directory's files, recorded."""
    seen: list[Path] = []
    original = Path.stat

    def counting(self: Path, *args, **kwargs):
        if self.parent == directory:
            seen.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", counting)
    return seen


def kids(document) -> list[str]:
    return [entry["kid"] for entry in document["keys"]]


def rotate_elsewhere(directory, clock) -> str:
    return FileSigningKeys(directory, clock=clock).rotate(overlap=OVERLAP, now=clock.now())


def test_reading_the_key_set_again_and_again_does_not_stat_the_file(running, stats):
    for _ in range(100):
        running.jwks()

    assert stats == []


async def test_looking_up_a_known_key_again_and_again_does_not_stat_the_file(running, stats):
    keys = OwnKeys(running)
    kid = running.current_kid()
    stats.clear()

    for _ in range(100):
        assert await keys.get(kid) is not None

    assert stats == []


def test_the_file_is_looked_at_again_once_the_recheck_interval_has_passed(
    running, directory, clock, monotonic
):
    old = running.current_kid()
    new = rotate_elsewhere(directory, clock)
    assert kids(running.jwks()) == [old]  # within the interval: the ring as last read

    monotonic.value += RECHECK_S

    assert kids(running.jwks()) == [new, old]


async def test_a_token_of_a_key_rotated_elsewhere_verifies_at_once_within_the_interval(
    running, directory, clock
):
    keys = OwnKeys(running)
    old = running.current_kid()
    assert await keys.get(old) is not None
    new = rotate_elsewhere(directory, clock)

    assert await keys.get(new) is not None  # unknown kid: the file is read at once
    assert await keys.get(old) is not None


async def test_an_unknown_kid_that_no_rotation_explains_stays_unknown(running, stats):
    keys = OwnKeys(running)

    assert await keys.get("no-such-kid") is None
    assert len(stats) == 1  # one look at the file, no more


def test_signing_sees_a_rotation_elsewhere_at_once_within_the_interval(running, directory, clock):
    new = rotate_elsewhere(directory, clock)

    assert running.active_key().kid == new
    assert running.current_kid() == new


async def test_a_previous_key_still_stops_verifying_when_its_overlap_ends_by_the_clock(running, clock):
    keys = OwnKeys(running)
    old = running.current_kid()
    running.rotate(overlap=OVERLAP, now=clock.now())
    assert await keys.get(old) is not None

    clock.advance(OVERLAP)  # the monotonic clock has not moved: no look at the file needed

    assert await keys.get(old) is None
