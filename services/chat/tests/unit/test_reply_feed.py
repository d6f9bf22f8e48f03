"""A subscriber's feed in the reply channel (``_Feed``): frames in order, quiet reported, and the
end of a subscriber that fell too far behind."""

from __future__ import annotations

import asyncio

import pytest

from chat.adapters.messaging.reply_channel import BACKLOG, _Feed
from chat.application.ports.replies import FeedOverflow, ReplyChunk
from shared.kernel.ids import new_id

CONVERSATION, MESSAGE = new_id(), new_id()


def chunk(seq: int) -> ReplyChunk:
    return ReplyChunk(message_id=MESSAGE, conversation_id=CONVERSATION, seq=seq, data=f"w{seq}")


async def test_a_waiting_subscriber_gets_each_frame_as_it_comes_and_quiet_as_none():
    feed = _Feed()
    waiting = asyncio.create_task(feed.next(5.0))
    await asyncio.sleep(0)
    feed.put(chunk(1))
    feed.put(chunk(2))
    assert (await waiting).seq == 1
    assert (await feed.next(5.0)).seq == 2
    assert await feed.next(0.01) is None


async def test_a_subscriber_that_falls_too_far_behind_gets_its_backlog_then_its_feed_ends():
    feed = _Feed()
    for seq in range(1, BACKLOG + 3):
        feed.put(chunk(seq))
    seqs = [(await feed.next(1.0)).seq for _ in range(BACKLOG)]
    assert seqs == list(range(1, BACKLOG + 1))
    with pytest.raises(FeedOverflow):
        await feed.next(1.0)


async def test_a_shorter_quiet_than_the_last_wait_s_is_reported_on_time():
    feed = _Feed()
    waiting = asyncio.create_task(feed.next(60.0))
    await asyncio.sleep(0)
    feed.put(chunk(1))
    assert (await waiting).seq == 1
    assert await asyncio.wait_for(feed.next(0.01), 1.0) is None


async def test_frames_go_to_the_taker_while_the_subscriber_waits_on_an_empty_feed():
    feed = _Feed()
    taken: list[int] = []
    feed.hand_over(lambda frame: taken.append(frame.seq) or True)
    feed.put(chunk(1))  # nobody waits yet: queued
    assert (await feed.next(5.0)).seq == 1
    waiting = asyncio.create_task(feed.next(5.0))
    await asyncio.sleep(0)
    feed.put(chunk(2))
    feed.put(chunk(3))
    await asyncio.sleep(0)
    assert taken == [2, 3]
    assert not waiting.done()  # the subscriber was not woken for them
    waiting.cancel()


async def test_a_declined_frame_wakes_the_subscriber_and_the_ones_after_it_queue_behind_it():
    feed = _Feed()
    taken: list[int] = []

    def take(frame: ReplyChunk) -> bool:
        if frame.seq == 2:
            return False  # as a socket that would have waited
        taken.append(frame.seq)
        return True

    feed.hand_over(take)
    waiting = asyncio.create_task(feed.next(5.0))
    await asyncio.sleep(0)
    feed.put(chunk(1))
    feed.put(chunk(2))
    feed.put(chunk(3))
    assert taken == [1]
    assert (await waiting).seq == 2
    assert (await feed.next(5.0)).seq == 3  # in order behind the declined one, not taken past it
    assert taken == [1]


async def test_frames_taken_keep_the_feed_from_reporting_quiet():
    feed = _Feed()
    feed.hand_over(lambda frame: True)
    waiting = asyncio.create_task(feed.next(0.05))
    for seq in range(1, 8):
        await asyncio.sleep(0.02)
        feed.put(chunk(seq))
        assert not waiting.done()  # 140 ms of frames taken: no quiet 50 ms
    assert await waiting is None  # then quiet, 50 ms after the last one
