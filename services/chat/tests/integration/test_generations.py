"""Generations on real PostgreSQL and NATS: checkpoints, leases, stops across processes,
shutdown and deletion mid-reply. A "process" here is one :class:`Generator` with its own
NATS connection, as each API process has."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta

import nats
import pytest
import sqlalchemy as sa
from services.chat.tests.attachment_samples import png, wav

from chat.adapters.blobs.filesystem import FilesystemBlobStore
from chat.adapters.messaging.reply_channel import NatsReplyChannel, reply_stream
from chat.adapters.postgres.tables import messages
from chat.application.generator import LOST, SHUTDOWN, Generator
from chat.application.ports.replicas import ModelSenses, ResolvedModel
from chat.application.ports.replies import ReplyChunk, ReplyDone, ReplyError
from chat.application.replies import PostMessage, post_message
from chat.application.reply_streams import open_reply_stream
from chat.domain.attachments import Attachment
from chat.domain.conversations import Conversation
from shared.kernel.ai import (
    ChatChunk,
    ChatCompletion,
    ChatRequest,
    ImagePart,
    ModelUnavailable,
    Parameters,
    Timeouts,
    Usage,
)
from shared.kernel.clock import SystemClock
from shared.kernel.ids import new_id
from shared.messaging.outbox_schema import outbox
from shared.messaging.streams import ensure_stream

CLOCK = SystemClock()


class Tap:
    """A model that says one word each time the test lets it (``release``), forever."""

    def __init__(self) -> None:
        self.gate = asyncio.Semaphore(0)
        self.closed = asyncio.Event()

    def release(self, words: int = 1) -> None:
        for _ in range(words):
            self.gate.release()

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        try:
            n = 0
            while True:
                await self.gate.acquire()
                n += 1
                yield ChatChunk(delta=f"w{n} ")
        finally:
            self.closed.set()

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        return ChatCompletion(content="A title", finish_reason="stop", usage=Usage())


class Catalog:
    def __init__(self, model: Tap, *, vision: bool = False, transcriber=None, model_id=None) -> None:
        self.model = model
        self.vision = vision
        self.transcriber = transcriber
        self.model_id = model_id

    async def resolve(self, model_id=None) -> ResolvedModel:
        return ResolvedModel(
            id=self.model_id,
            name="tap",
            model=self.model,
            parameters=Parameters(),
            timeouts=Timeouts(),
            senses=ModelSenses(vision=self.vision),
            transcriber=self.transcriber,
        )


@pytest.fixture
async def process(servers, uow):
    """Builds generator "processes" (each with its own NATS connection), closed after the test;
    ``running=False``: the test opens the generator's loops itself (and closes them: a stop)."""
    async with AsyncExitStack() as stack:

        async def start(
            model: Tap,
            *,
            lease_s: float = 10.0,
            checkpoint_s: float = 3600.0,
            blobs=None,
            vision: bool = False,
            transcriber=None,
            model_id=None,
            running: bool = True,
        ) -> Generator:
            nc = await nats.connect(servers.nats_url)
            stack.push_async_callback(nc.close)
            await ensure_stream(nc.jetstream(), reply_stream())
            generator = Generator(
                uow=uow,
                models=Catalog(model, vision=vision, transcriber=transcriber, model_id=model_id),
                channel=NatsReplyChannel(nc),
                clock=CLOCK,
                blobs=blobs,
                lease_s=lease_s,
                checkpoint_s=checkpoint_s,
            )
            if running:
                await stack.enter_async_context(generator.running())
            return generator

        yield start


async def a_reply(uow, owner_id=None, attachment_ids=()):
    owner_id = owner_id or new_id()
    async with uow() as work:
        conversation = Conversation.create(id=new_id(), owner_id=owner_id, now=CLOCK.now())
        await work.conversations.add(conversation)
        await work.commit()
    started = await post_message(
        PostMessage(
            conversation_id=conversation.id,
            owner_id=owner_id,
            content="Hello",
            attachment_ids=tuple(attachment_ids),
        ),
        uow(),
        clock=CLOCK,
    )
    return started


async def stored(uow, started):
    async with uow() as work:
        return await work.messages.get(started.reply.id, started.reply.owner_id)


async def until(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_checkpoint_stores_the_partial_content_and_renews_the_lease_in_one_go(process, uow):
    tap = Tap()
    generator = await process(tap)
    started = await a_reply(uow)
    generator.start(started.conversation, started.reply)
    tap.release(3)

    await until(lambda: _wrote(generator, started, "w1 w2 w3 "))
    frames = generator._runs[started.reply.id].seq
    await generator.checkpoint()
    reply = await stored(uow, started)
    stored_seq = reply.metadata["checkpoint_seq"]
    assert (reply.status, reply.content, stored_seq) == ("streaming", "w1 w2 w3 ", frames)
    async with uow() as work:
        lease = (
            await work._conn.execute(sa.select(messages.c.lease_expires_at).where(messages.c.id == reply.id))
        ).scalar()
    assert lease > CLOCK.now() + timedelta(seconds=5)


async def test_a_reply_whose_process_is_gone_is_failed_by_a_sweep_with_its_partial_content(process, uow):
    dead_tap, live_tap = Tap(), Tap()
    dead = await process(dead_tap, lease_s=0.5)
    started = await a_reply(uow)
    dead.start(started.conversation, started.reply)
    dead_tap.release(2)
    await until(lambda: _wrote(dead, started, "w1 w2 "))
    await dead.checkpoint()
    dead_tap.release(1)  # streamed after the last checkpoint: the channel keeps it
    await until(lambda: _wrote(dead, started, "w1 w2 w3 "))
    last_seq = dead._runs[started.reply.id].seq
    # the process "dies": it says nothing more, its task vanishes unfinished, its lease lapses

    def silent(frame) -> None:
        return None

    dead._channel.publish = silent
    run = dead._runs.pop(started.reply.id)
    run.abandoned = True
    run.task.cancel()
    await asyncio.sleep(0.6)

    survivor = await process(live_tap, lease_s=0.5)
    assert await survivor.sweep() == 1
    reply = await stored(uow, started)
    assert (reply.status, reply.content, reply.metadata["error"]) == ("failed", "w1 w2 w3 ", LOST)

    channel = survivor._channel
    stream = await open_reply_stream(started.reply.id, started.reply.owner_id, uow, channel)
    frames = [frame async for frame in stream.frames(0) if frame is not None]
    assert isinstance(frames[-1], ReplyError)
    assert frames[-1].detail == LOST
    # what a subscriber reads is what is stored, and the end comes after the last chunk
    assert "".join(f.data for f in frames if isinstance(f, ReplyChunk)) == reply.content
    assert frames[-1].seq == last_seq + 1


async def test_a_stop_reaches_the_process_writing_the_reply(process, uow):
    tap = Tap()
    writer = await process(tap)
    other = await process(Tap())
    started = await a_reply(uow)
    writer.start(started.conversation, started.reply)
    tap.release(2)
    await until(lambda: _wrote(writer, started, "w1 w2 "))

    reply = await other.stop(started.reply.id, started.reply.owner_id)
    assert (reply.status, reply.content) == ("stopped", "w1 w2 ")
    assert tap.closed.is_set()  # the model's stream was closed


async def test_a_stop_of_a_reply_no_process_writes_finishes_it_as_stopped(process, uow):
    generator = await process(Tap())
    started = await a_reply(uow)  # never started: its process died before it could
    reply = await generator.stop(started.reply.id, started.reply.owner_id)
    assert reply.status == "stopped"


async def test_a_shutdown_fails_the_replies_in_flight_so_they_can_be_regenerated(process, uow):
    tap = Tap()
    generator = await process(tap, running=False)
    started = await a_reply(uow)
    async with generator.running():
        generator.start(started.conversation, started.reply)
        tap.release(1)
        await until(lambda: _wrote(generator, started, "w1 "))
    reply = await stored(uow, started)
    assert (reply.status, reply.content, reply.metadata["error"]) == ("failed", "w1 ", SHUTDOWN)


async def test_a_shutdown_lets_the_replies_in_flight_finish_within_its_grace(process, uow):
    class Ending(Tap):  # three words, each when the test lets it, then the end
        async def stream(self, request):
            for n in range(1, 4):
                await self.gate.acquire()
                yield ChatChunk(delta=f"w{n} ")
            yield ChatChunk(delta="", finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=3))

    tap = Ending()
    generator = await process(tap, running=False)
    started = await a_reply(uow)

    async def the_rest_soon() -> None:  # while the process is stopping
        await asyncio.sleep(0.3)
        tap.release(2)

    async with generator.running(finish_within_s=30):
        generator.start(started.conversation, started.reply)
        tap.release(1)
        await until(lambda: _wrote(generator, started, "w1 "))
        rest = asyncio.create_task(the_rest_soon())
    await rest
    reply = await stored(uow, started)
    assert (reply.status, reply.content) == ("completed", "w1 w2 w3 ")


async def test_deleting_the_conversation_stops_its_reply_at_the_next_checkpoint(process, uow):
    tap = Tap()
    generator = await process(tap)
    started = await a_reply(uow)
    generator.start(started.conversation, started.reply)
    tap.release(1)
    await until(lambda: _wrote(generator, started, "w1 "))
    async with uow() as work:
        await work.conversations.delete(started.conversation.id)
        await work.commit()
    await generator.checkpoint()
    await until(lambda: _gone(generator, started))
    assert tap.closed.is_set()


async def test_a_completed_reply_is_committed_once_with_its_event_and_followers_get_every_frame(process, uow):
    class Short(Tap):  # a word a turn of the event loop, as a paced stream
        async def stream(self, request):
            for word in ("one ", "two ", "three"):
                await asyncio.sleep(0)
                yield ChatChunk(delta=word)
            yield ChatChunk(delta="", finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=3))

    reply, stream = await _written_whole(process, uow, Short())
    assert (reply.status, reply.content, reply.usage.completion_tokens) == ("completed", "one two three", 3)
    frames = [f async for f in stream.frames(0) if f is not None]
    assert [f.data for f in frames if isinstance(f, ReplyChunk)] == ["one ", "two ", "three"]
    assert isinstance(frames[-1], ReplyDone)
    assert frames[-1].seq == 4
    tail = [f async for f in stream.frames(4) if f is not None]
    assert len(tail) == 1
    assert isinstance(tail[0], ReplyDone)


async def test_the_tokens_a_model_gives_in_one_turn_of_the_event_loop_go_out_as_one_frame(process, uow):
    class Burst(Tap):  # two runs of words, each delivered at once (as a stream read in one go)
        async def stream(self, request):
            for run in (("one ", "two "), ("three ", "four")):
                await asyncio.sleep(0)
                for word in run:
                    yield ChatChunk(delta=word)
            yield ChatChunk(delta="", finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=4))

    reply, stream = await _written_whole(process, uow, Burst())
    assert (reply.content, reply.metadata["frames"]) == ("one two three four", 3)
    frames = [f async for f in stream.frames(0) if f is not None]
    chunks = [(f.seq, f.data) for f in frames if isinstance(f, ReplyChunk)]
    assert chunks == [(1, "one two "), (2, "three four")]
    assert (type(frames[-1]), frames[-1].seq) == (ReplyDone, 3)


async def _written_whole(process, uow, model: Tap):
    """A reply ``model`` wrote to its end: as stored, and a follower's stream of it."""
    generator = await process(model)
    started = await a_reply(uow)
    generator.start(started.conversation, started.reply)
    await until(lambda: _gone(generator, started))
    reply = await stored(uow, started)
    return reply, await open_reply_stream(started.reply.id, started.reply.owner_id, uow, generator._channel)


async def _wrote(generator: Generator, started, text: str) -> bool:
    """The reply's frames so far carry ``text``."""
    run = generator._runs.get(started.reply.id)
    return run is not None and run.content == text


async def _gone(generator: Generator, started) -> bool:
    return started.reply.id not in generator._runs


async def test_a_model_failure_mid_reply_fails_it_with_the_reason_and_the_partial_content(process, uow):
    class Breaks(Tap):
        async def stream(self, request):
            yield ChatChunk(delta="half ")
            raise ModelUnavailable("the provider went away")

    generator = await process(Breaks())
    started = await a_reply(uow)
    generator.start(started.conversation, started.reply)
    await until(lambda: _gone(generator, started))
    reply = await stored(uow, started)
    assert (reply.status, reply.content) == ("failed", "half ")
    assert reply.metadata["error"] == "the provider went away"
    stream = await open_reply_stream(started.reply.id, started.reply.owner_id, uow, generator._channel)
    frames = [f async for f in stream.frames(0) if f is not None]
    assert isinstance(frames[-1], ReplyError)
    assert frames[-1].detail == "the provider went away"


async def test_an_image_attached_to_the_message_reaches_a_vision_model_as_a_part(process, uow, tmp_path):
    class Recording(Tap):
        requests: list = []

        async def stream(self, request):
            self.requests.append(request)
            yield ChatChunk(
                delta="a cat", finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=2)
            )

    owner_id = new_id()
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    picture = png()
    attachment = Attachment(
        id=new_id(),
        owner_id=owner_id,
        message_id=None,
        kind="image",
        media_type="image/png",
        filename="cat.png",
        size_bytes=len(picture),
        sha256=await blobs.put(owner_id, picture),
        created_at=CLOCK.now(),
    )
    async with uow() as work:
        await work.attachments.add(attachment)
        await work.commit()
    model = Recording()
    generator = await process(model, blobs=blobs, vision=True)
    started = await a_reply(uow, owner_id, attachment_ids=[attachment.id])
    generator.start(started.conversation, started.reply)
    await until(lambda: _gone(generator, started))

    (request,) = model.requests
    (said,) = request.messages
    assert said.content == "Hello"
    (part,) = said.parts
    assert isinstance(part, ImagePart)
    assert (part.media_type, part.data) == ("image/png", picture)
    assert (await stored(uow, started)).status == "completed"


class Recording(Tap):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list = []

    async def stream(self, request):
        self.requests.append(request)
        yield ChatChunk(
            delta="heard", finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=1)
        )


async def an_attachment(uow, blobs, owner_id, data: bytes, *, kind: str, media_type: str, filename: str):
    attachment = Attachment(
        id=new_id(),
        owner_id=owner_id,
        message_id=None,
        kind=kind,
        media_type=media_type,
        filename=filename,
        size_bytes=len(data),
        sha256=await blobs.put(owner_id, data),
        created_at=CLOCK.now(),
    )
    async with uow() as work:
        await work.attachments.add(attachment)
        await work.commit()
    return attachment


async def test_audio_for_a_model_that_cannot_hear_is_transcribed_once_and_the_transcript_kept(
    process, uow, tmp_path
):
    class Transcriber:
        calls: list = []

        async def transcribe(self, audio: bytes, *, filename: str, media_type: str) -> str:
            self.calls.append((audio, filename, media_type))
            return "please book a table for two"

    owner_id = new_id()
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    voice = wav()
    attachment = await an_attachment(
        uow, blobs, owner_id, voice, kind="audio", media_type="audio/wav", filename="note.wav"
    )
    model, transcriber = Recording(), Transcriber()
    generator = await process(model, blobs=blobs, transcriber=transcriber)
    started = await a_reply(uow, owner_id, attachment_ids=[attachment.id])
    generator.start(started.conversation, started.reply)
    await until(lambda: _gone(generator, started))

    assert transcriber.calls == [(voice, "note.wav", "audio/wav")]
    (said,) = model.requests[0].messages
    assert said.parts == ()
    assert "please book a table for two" in said.content
    assert "note.wav" in said.content
    async with uow() as work:
        (kept,) = await work.attachments.of_messages([started.user_message.id])
    assert kept.transcript == "please book a table for two"

    # a second reply to the same message reads the kept transcript
    reply = await stored(uow, started)
    async with uow() as work:
        conversation = await work.conversations.get(started.conversation.id, owner_id, for_update=True)
        again = conversation.regenerate(id=new_id(), original=reply, now=CLOCK.now())
        await work.messages.add(again)
        await work.conversations.update(conversation)
        await work.commit()
    generator.start(conversation, again)
    await until(lambda: _gone(generator, type("S", (), {"reply": again})()))
    assert len(transcriber.calls) == 1
    assert "please book a table for two" in model.requests[1].messages[0].content


async def test_a_follower_that_comes_before_the_first_frame_is_served_from_the_writing_process(process, uow):
    tap = Tap()
    generator = await process(tap)
    started = await a_reply(uow)
    generator.start(started.conversation, started.reply, started.branch)
    channel = generator._channel
    async with channel.follow(started.reply.id) as feed:
        # the poster's own socket follows at once: the reply is known here before it has a frame
        assert len(channel._local[started.reply.id].feeds) == 1
        frames = []
        for _ in range(3):  # a word at a time: a frame each
            tap.release(1)
            frames.append(await feed.next(5.0))
        await generator.stop_here(started.reply.id)
        frames.append(await feed.next(5.0))
    assert [f.seq for f in frames] == [1, 2, 3, 4]
    assert [f.data for f in frames[:3]] == ["w1 ", "w2 ", "w3 "]
    assert isinstance(frames[-1], ReplyDone)
    assert frames[-1].status == "stopped"


async def test_a_first_message_hands_its_branch_to_the_generation_and_a_follow_up_does_not(process, uow):
    asked: list[ChatRequest] = []

    class Echo(Tap):
        async def stream(self, request):
            asked.append(request)
            yield ChatChunk(
                delta="ok", finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=1)
            )

    generator = await process(Echo())
    first = await a_reply(uow)
    assert first.branch == (first.user_message,)
    generator.start(first.conversation, first.reply, first.branch)
    await until(lambda: _gone(generator, first))
    follow_up = await post_message(
        PostMessage(
            conversation_id=first.conversation.id, owner_id=first.reply.owner_id, content="And then?"
        ),
        uow(),
        clock=CLOCK,
    )
    assert follow_up.branch is None
    generator.start(follow_up.conversation, follow_up.reply, follow_up.branch)
    await until(lambda: _gone(generator, follow_up))
    said = [[(m.role, m.content) for m in request.messages if m.role != "system"] for request in asked]
    assert said == [
        [("user", "Hello")],
        [("user", "Hello"), ("assistant", "ok"), ("user", "And then?")],
    ]
    assert (await stored(uow, follow_up)).status == "completed"


async def test_a_reply_written_here_ends_in_one_statement_with_its_model_in_the_row_and_the_event(
    process, uow, service_engine
):
    class Short(Tap):
        async def stream(self, request):
            yield ChatChunk(
                delta="done", finish_reason="stop", usage=Usage(prompt_tokens=2, completion_tokens=1)
            )

    model_id = new_id()
    generator = await process(Short(), model_id=model_id)
    started = await a_reply(uow)
    generator.start(started.conversation, started.reply, started.branch)
    await until(lambda: _gone(generator, started))
    reply = await stored(uow, started)
    assert (reply.status, reply.content, reply.model_id, reply.metadata["frames"]) == (
        "completed",
        "done",
        model_id,
        2,
    )
    async with service_engine.connect() as conn:
        payloads = (
            await conn.execute(
                sa.select(outbox.c.payload).where(outbox.c.subject == "chat.message.completed")
            )
        ).scalars()
        events = [json.loads(p) for p in payloads]
    mine = [e for e in events if e["message_id"] == str(started.reply.id)]
    assert len(mine) == 1
    assert (mine[0]["model_id"], mine[0]["status"], mine[0]["completion_tokens"]) == (
        str(model_id),
        "completed",
        1,
    )


async def a_reply_being_written(process, uow, words: int):
    """A reply this process writes, ``words`` words into it (its model holds the rest back)."""
    tap = Tap()
    generator = await process(tap)
    started = await a_reply(uow)
    generator.start(started.conversation, started.reply, started.branch)
    tap.release(words)
    await until(lambda: _wrote(generator, started, "".join(f"w{n} " for n in range(1, words + 1))))
    return generator, started


async def end_its_row(uow, started, end) -> None:
    """The reply's row ended by another writer than the generation (``end`` concludes it)."""
    async with uow() as work:
        row = await work.messages.get(started.reply.id, started.reply.owner_id, for_update=True)
        end(row)
        await work.messages.update(row)
        await work.commit()


async def test_a_reply_finished_elsewhere_meanwhile_is_not_ended_again_here(process, uow):
    generator, started = await a_reply_being_written(process, uow, 2)
    # another process's stop finished it from its stored content
    await end_its_row(uow, started, lambda row: row.stop(now=CLOCK.now()))
    await generator.stop_here(started.reply.id)
    reply = await stored(uow, started)
    assert (reply.status, reply.content) == ("stopped", "")


async def test_a_checkpoint_leaves_alone_a_reply_whose_end_is_being_stored(process, uow):
    """The race it closes: a checkpoint that read the replies before one of them ended, and ran
    its statement after, found that one's row no longer in flight, took it for deleted and
    cancelled its task (an auto title after the end was lost so)."""
    generator, started = await a_reply_being_written(process, uow, 1)
    run = generator._runs[started.reply.id]
    run.finishing = True  # as the generation does before it stores its end, which it stores here:
    await end_its_row(uow, started, lambda row: row.complete(content="w1 ", usage=Usage(), now=CLOCK.now()))
    await generator.checkpoint()
    assert not run.abandoned
    assert not run.task.cancelled()
    run.finishing = False  # now as a reply deleted meanwhile: the next checkpoint stops it
    await generator.checkpoint()
    await until(lambda: _gone(generator, started))
