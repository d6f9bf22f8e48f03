"""Following a reply (``chat.application.reply_streams``) through in-memory fakes: what a
subscriber gets for each state of the reply and of the frames kept."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from services.chat.tests.unit.fakes import fake_uow

from chat.application.generator import FRAMES_KEY
from chat.application.ports.replies import ReplyChunk, ReplyDone, ReplyError, ReplyFrame
from chat.application.reply_streams import ReplyStream, open_reply_stream
from chat.domain.conversations import Conversation
from shared.kernel.ai import Usage
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class FakeReplyChannel:
    """Frames kept per reply, and live ones pushed by the test."""

    def __init__(self) -> None:
        self.kept: dict = {}
        self.live: dict = {}

    def publish(self, frame: ReplyFrame) -> None:
        self.kept.setdefault(frame.message_id, []).append(frame)
        for feed in self.live.get(frame.message_id, []):
            feed.offer(frame)

    @asynccontextmanager
    async def follow(self, message_id):
        feed = FakeFeed()
        for frame in self.kept.get(message_id, []):
            feed.offer(frame)
        self.live.setdefault(message_id, []).append(feed)
        yield feed

    async def has_frames(self, message_id) -> bool:
        return bool(self.kept.get(message_id))


class FakeFeed:
    """A feed as the channel's: a frame that comes while the subscriber waits on an empty feed
    is offered to its taker first."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.take = None
        self.waiting = False

    def offer(self, frame: ReplyFrame) -> None:
        if self.take is not None and self.waiting and self.queue.empty() and self.take(frame):
            return
        self.queue.put_nowait(frame)

    def hand_over(self, take) -> None:
        self.take = take

    async def next(self, quiet_s: float):
        self.waiting = True
        try:
            return await asyncio.wait_for(self.queue.get(), quiet_s)
        except TimeoutError:
            return None
        finally:
            self.waiting = False


async def a_reply(uow, *, content: str = "", status: str = "pending"):
    owner_id = new_id()
    async with uow:
        conversation = Conversation.create(id=new_id(), owner_id=owner_id, now=NOW)
        user = conversation.post(id=new_id(), content="Hi", parent=None, now=NOW)
        reply = conversation.start_reply(id=new_id(), to=user, now=NOW)
        if status != "pending":
            reply.metadata = {FRAMES_KEY: 4}
            if status == "failed":
                reply.fail(reason="the model broke", content=content, now=NOW)
            else:
                reply.complete(content=content, usage=Usage(prompt_tokens=1, completion_tokens=3), now=NOW)
        await uow.conversations.add(conversation)
        await uow.messages.add(user)
        await uow.messages.add(reply)
        await uow.commit()
    return reply


def chunk(reply, seq: int, data: str) -> ReplyChunk:
    return ReplyChunk(message_id=reply.id, conversation_id=reply.conversation_id, seq=seq, data=data)


def done(reply, seq: int) -> ReplyDone:
    return ReplyDone(
        message_id=reply.id, conversation_id=reply.conversation_id, seq=seq, status="completed", usage=Usage()
    )


async def collect(stream: ReplyStream, after: int = 0, write_now=None) -> list:
    return [frame async for frame in stream.frames(after, write_now=write_now)]


async def test_live_chunks_in_order_go_to_the_transports_write_and_the_rest_through_the_stream():
    uow, channel = fake_uow(), FakeReplyChannel()
    reply = await a_reply(uow)
    channel.publish(chunk(reply, 1, "one "))  # kept: the backlog comes through the stream
    written: list[int] = []

    def write_now(frame: ReplyFrame) -> bool:
        if frame.seq == 3:
            return False  # as a socket that would have waited: nothing written
        written.append(frame.seq)
        return True

    stream = await open_reply_stream(reply.id, reply.owner_id, lambda: uow, channel)
    following = asyncio.create_task(collect(stream, write_now=write_now))
    await asyncio.sleep(0.01)
    for seq, word in ((2, "two "), (3, "three "), (4, "four")):
        channel.publish(chunk(reply, seq, word))
    channel.publish(done(reply, 5))
    frames = await asyncio.wait_for(following, 2)
    assert written == [2]
    assert [f.seq for f in frames] == [1, 3, 4, 5]  # each frame once, in order, the end through the stream


async def test_a_subscriber_gets_the_frames_after_its_seq_then_the_end():
    uow, channel = fake_uow(), FakeReplyChannel()
    reply = await a_reply(uow)
    for seq, word in enumerate(("one ", "two ", "three"), start=1):
        channel.publish(chunk(reply, seq, word))
    channel.publish(done(reply, 4))
    stream = await open_reply_stream(reply.id, reply.owner_id, lambda: uow, channel)
    frames = await collect(stream, after=1)
    assert [f.seq for f in frames] == [2, 3, 4]
    assert isinstance(frames[-1], ReplyDone)


async def test_live_frames_follow_the_kept_ones_in_order():
    uow, channel = fake_uow(), FakeReplyChannel()
    reply = await a_reply(uow)
    channel.publish(chunk(reply, 1, "one "))
    stream = await open_reply_stream(reply.id, reply.owner_id, lambda: uow, channel)
    following = asyncio.create_task(collect(stream))
    await asyncio.sleep(0.01)
    channel.publish(chunk(reply, 2, "two"))
    channel.publish(done(reply, 3))
    frames = await asyncio.wait_for(following, 2)
    assert [f.seq for f in frames] == [1, 2, 3]


async def test_a_finished_reply_whose_frames_are_gone_is_answered_whole_from_storage():
    uow, channel = fake_uow(), FakeReplyChannel()
    reply = await a_reply(uow, content="one two three", status="completed")
    stream = await open_reply_stream(reply.id, reply.owner_id, lambda: uow, channel)
    frames = await collect(stream, after=1)
    assert isinstance(frames[0], ReplyChunk)
    assert (frames[0].whole, frames[0].data, frames[0].seq) == (True, "one two three", 3)
    assert isinstance(frames[1], ReplyDone)
    assert (frames[1].seq, frames[1].usage.completion_tokens) == (4, 3)


async def test_a_subscriber_holding_everything_gets_only_the_end():
    uow, channel = fake_uow(), FakeReplyChannel()
    reply = await a_reply(uow, content="one two three", status="failed")
    stream = await open_reply_stream(reply.id, reply.owner_id, lambda: uow, channel)
    frames = await collect(stream, after=3)
    assert len(frames) == 1
    assert isinstance(frames[0], ReplyError)
    assert frames[0].detail == "the model broke"


async def test_lost_frames_of_a_finished_reply_are_replaced_by_the_stored_whole():
    uow, channel = fake_uow(), FakeReplyChannel()
    reply = await a_reply(uow, content="one two three", status="completed")
    channel.publish(chunk(reply, 3, "three"))  # 1 and 2 expired
    stream = await open_reply_stream(reply.id, reply.owner_id, lambda: uow, channel)
    frames = await collect(stream)
    assert frames[0].whole
    assert frames[0].data == "one two three"
    assert isinstance(frames[-1], ReplyDone)


async def test_a_quiet_in_flight_reply_reports_keep_alives_and_ends_when_its_end_is_stored():
    uow, channel = fake_uow(), FakeReplyChannel()
    reply = await a_reply(uow)
    stream = await open_reply_stream(reply.id, reply.owner_id, lambda: uow, channel)
    stream.quiet_s, stream.recheck_s = 0.01, 0.05
    frames: list = []

    async def follow() -> None:
        async for frame in stream.frames(0):
            frames.append(frame)

    following = asyncio.create_task(follow())
    await asyncio.sleep(0.03)
    async with uow:  # the terminal frame was lost: the reply ended meanwhile
        stored = await uow.messages.get(reply.id, reply.owner_id)
        stored.metadata = {FRAMES_KEY: 1}
        stored.fail(reason="lost", now=NOW)
        await uow.messages.update(stored)
        await uow.commit()
    await asyncio.wait_for(following, 2)
    assert None in frames  # keep-alives while quiet
    assert isinstance(frames[-1], ReplyError)
    assert frames[-1].detail == "lost"


async def test_a_reply_deleted_while_followed_ends_the_stream_with_an_error():
    uow, channel = fake_uow(), FakeReplyChannel()
    reply = await a_reply(uow)
    stream = await open_reply_stream(reply.id, reply.owner_id, lambda: uow, channel)
    stream.quiet_s, stream.recheck_s = 0.01, 0.02
    del uow.messages.rows[reply.id]
    frames = [f async for f in stream.frames(0) if f is not None]
    assert isinstance(frames[-1], ReplyError)
    assert frames[-1].detail == "the reply was deleted"


async def test_another_users_reply_and_a_user_message_have_no_stream():
    uow, channel = fake_uow(), FakeReplyChannel()
    reply = await a_reply(uow)
    with pytest.raises(NotFound):
        await open_reply_stream(reply.id, new_id(), lambda: uow, channel)
    with pytest.raises(NotFound):
        await open_reply_stream(reply.parent_id, reply.owner_id, lambda: uow, channel)
