"""An API process's revocation feed reads identity's stream: what was published before it
started, and what is published while it runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shared.auth.principal import Principal
from shared.auth.revocation_feed import RevocationFeed
from shared.auth.revocations import RETENTION, Revocations
from shared.auth.verifier import InvalidToken
from shared.contracts import identity
from shared.kernel.ids import new_id
from shared.messaging.envelope import headers_for, outgoing
from shared.messaging.streams import context_stream, ensure_stream


async def publish(nc, event: identity.Event) -> None:
    message = outgoing(event, source="/aiorch/identity")
    await nc.jetstream().publish(message.subject, message.payload, headers=headers_for(message))


def revoked(session_id=None, *, at=None) -> identity.SessionRevoked:
    at = at or datetime.now(UTC)
    return identity.SessionRevoked(
        event_id=new_id(),
        occurred_at=at,
        session_id=session_id or new_id(),
        user_id=new_id(),
        reason="logout",
        revoked_at=at,
    )


def principal(session_id) -> Principal:
    now = datetime.now(UTC).replace(microsecond=0)
    return Principal(
        user_id=new_id(),
        role="user",
        session_id=session_id,
        token_id="t",
        expires_at=now + timedelta(minutes=15),
        issued_at=now,
    )


async def eventually_refused(revocations: Revocations, session_id) -> None:
    for _ in range(200):
        try:
            revocations.admit(principal(session_id))
        except InvalidToken:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the revoked session's token is still admitted")


@pytest.fixture
async def feeds(nats_client):
    started: list[RevocationFeed] = []

    async def start(*, wait: float = 10.0) -> RevocationFeed:
        feed = RevocationFeed(nats_client, Revocations(), retention=RETENTION, retry_interval=0.1)
        started.append(feed)
        await feed.start(wait=wait)
        return feed

    yield start
    for feed in started:
        await feed.close()


async def test_a_feed_catches_up_on_what_was_published_before_it_started(nats_client, feeds):
    await ensure_stream(nats_client.jetstream(), context_stream("identity"))
    sessions = [new_id() for _ in range(50)]
    for session_id in sessions:
        await publish(nats_client, revoked(session_id))

    feed = await feeds()

    assert feed.caught_up
    for session_id in sessions:
        with pytest.raises(InvalidToken):
            feed.revocations.admit(principal(session_id))


async def test_a_feed_hears_of_a_revocation_published_while_it_runs(nats_client, feeds):
    await ensure_stream(nats_client.jetstream(), context_stream("identity"))
    feed = await feeds()
    assert feed.caught_up  # an empty stream: nothing to read
    session_id = new_id()
    feed.revocations.admit(principal(session_id))

    await publish(nats_client, revoked(session_id))

    await eventually_refused(feed.revocations, session_id)


async def test_events_older_than_the_retention_are_not_read_again(nats_client, feeds):
    await ensure_stream(nats_client.jetstream(), context_stream("identity"))
    await publish(nats_client, revoked())
    await asyncio.sleep(0.3)
    recent = new_id()
    await publish(nats_client, revoked(recent))
    feed = RevocationFeed(nats_client, Revocations(), retention=timedelta(seconds=0.2), retry_interval=0.1)
    try:
        await feed.start(wait=10.0)

        assert feed.caught_up
        assert feed.applied == 1
    finally:
        await feed.close()


async def test_without_identity_s_stream_nothing_is_revoked_and_the_stream_is_read_once_it_appears(
    nats_client, feeds
):
    feed = await feeds(wait=5.0)
    assert feed.caught_up
    session_id = new_id()

    await ensure_stream(nats_client.jetstream(), context_stream("identity"))
    await publish(nats_client, revoked(session_id))

    await eventually_refused(feed.revocations, session_id)


async def test_after_nats_restarts_the_feed_resumes_and_hears_the_next_revocation(private_nats):
    from shared.messaging.connection import connect_nats

    nc = await connect_nats(private_nats.url, name="tests", wait=10)
    feed = RevocationFeed(nc, Revocations(), retention=RETENTION, retry_interval=0.1)
    try:
        await ensure_stream(nc.jetstream(), context_stream("identity"))
        before = new_id()
        await publish(nc, revoked(before))
        await feed.start(wait=10.0)
        assert feed.applied == 1

        private_nats.stop()
        private_nats.start()
        back = asyncio.get_running_loop().time()
        session_id = new_id()
        for _ in range(100):  # JetStream answers again once NATS is back
            try:
                await publish(nc, revoked(session_id))
                break
            except Exception:
                await asyncio.sleep(0.2)

        # the ordered consumer died with the server: it is re-created from where it stopped
        for _ in range(300):
            if feed.applied == 2:
                break
            await asyncio.sleep(0.1)
        with pytest.raises(InvalidToken):
            feed.revocations.admit(principal(session_id))
        assert feed.applied == 2  # nothing read twice
        print(f"revocations flow again {asyncio.get_running_loop().time() - back:.1f} s after NATS restarted")
    finally:
        await feed.close()
        await nc.close()
