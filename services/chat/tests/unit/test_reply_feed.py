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
