"""Generations: the replies this process is writing, owned by the service, not by a connection.

A generation streams the model's answer into numbered frames on the reply channel (any number of
subscribers, in any process, follow it); its content reaches the database in batches — one
statement per tick for every reply this process writes, which also renews their leases — and
its end is committed exactly once, with its ``MessageCompleted`` event, before the terminal
frame is published. A reply whose process died is found by its lapsed lease and failed by
whichever process sweeps first, its partial content kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

from chat.application.attachments import attachments_of
from chat.application.budgets import record_usage
from chat.application.ports import UnitOfWork
from chat.application.ports.attachments import BlobStore
from chat.application.ports.replicas import ModelCatalog
from chat.application.ports.replies import (
    FinishedStatus,
    ReplyChannel,
    ReplyChunk,
    ReplyDone,
    ReplyError,
    ReplyFrame,
)
from chat.application.prompts import branch, reply_request, title_of, title_request
from chat.application.transcripts import with_transcripts
from chat.domain.attachments import Attachment
from chat.domain.conversations import Conversation
from chat.domain.limits import ChatLimits
from chat.domain.messages import Message
from shared.kernel.ai import NO_USAGE, ModelError, Usage
from shared.kernel.clock import Clock
from shared.kernel.errors import DomainError, NotFound

FRAMES_KEY: Final = "frames"
"""Metadata of a finished reply: the ``seq`` of its terminal frame."""
CHECKPOINT_SEQ_KEY: Final = "checkpoint_seq"
"""Metadata of an in-flight reply: the ``seq`` of the last frame its stored content includes."""
ORPHAN_READ_QUIET_S: Final = 0.5
"""Reading a dead process's kept chunks ends after this long without one."""
LOST: Final = "generation lost: the process writing it stopped"
GONE: Final = "the reply was deleted"
SHUTDOWN: Final = "generation interrupted: the service stopped"
LIMITS_FRESH_S: Final = 1.0
"""How long the generator reuses the limits it read from the settings replica (two statements
less per reply under load; a changed setting reaches the replies within this)."""

# stdlib logging: the application layer imports no framework; shared.logging renders it as JSON
_log = logging.getLogger("chat.generations")


@dataclass(slots=True)
class _Run:
    reply: Message
    conversation: Conversation
    parts: list[str] = field(default_factory=list)
    """The text published so far, one part a frame."""
    seq: int = 0
    dirty: bool = False
    pending: list[str] = field(default_factory=list)
    """Text the model gave in this turn of the event loop, published as one frame at its end
    (the turn's first piece schedules the flush)."""
    stopping: bool = False
    model_id: UUID | None = None
    """The registry model that answered (the conversation may name none: the default did)."""
    abandoned: bool = False
    """Its row is gone (or finished elsewhere): nothing is left to finish."""
    finishing: bool = False
    """Its end is being stored: checkpoints leave it alone (its end writes its content)."""
    task: asyncio.Task[None] | None = None
    branch: list[Message] | None = None
    """The messages it answers, known when it started (none read back); ``None``: read them."""

    @property
    def content(self) -> str:
        """The text published so far; its parts are joined into one as it is read (every
        checkpoint reads it: 500 replies of 400 frames were a 4 ms join a second, not 50 µs)."""
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""


class Generator:
    """The generations of one API process, with their checkpoint and sweep loops (:meth:`running`)."""

    def __init__(
        self,
        *,
        uow: Callable[[], UnitOfWork],
        models: ModelCatalog,
        channel: ReplyChannel,
        clock: Clock,
        blobs: BlobStore | None = None,
        lease_s: float = 10.0,
        checkpoint_s: float = 1.0,
    ) -> None:
        self._uow = uow
        self._models = models
        self._channel = channel
        self._clock = clock
        self._blobs = blobs
        self._lease = timedelta(seconds=lease_s)
        self._checkpoint_s = checkpoint_s
        self._runs: dict[UUID, _Run] = {}
        self._closing = False
        self._limits: tuple[float, ChatLimits] | None = None

    # -- starting and stopping ---------------------------------------------------------------

    def start(
        self, conversation: Conversation, reply: Message, branch: Sequence[Message] | None = None
    ) -> None:
        """Write ``reply`` (pending, just committed) in the background; ``branch``: the messages
        it answers, when the caller knows them whole (no attachments), so none are read back."""
        run = _Run(reply=reply, conversation=conversation, branch=None if branch is None else list(branch))
        self._runs[reply.id] = run
        self._channel.begin(reply.id)
        run.task = asyncio.create_task(self._generate(run), name=f"reply-{reply.id}")

    async def stop_here(self, message_id: UUID) -> bool:
        """Stop the reply if this process writes it; ``True`` once it is finished as ``stopped``."""
        run = self._runs.get(message_id)
        if run is None or run.task is None:
            return False
        run.stopping = True
        run.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run.task
        return True

    async def stop(self, message_id: UUID, owner_id: UUID) -> Message:
        """The owner stops a reply wherever it runs; its partial content stays, as ``stopped``.
        A reply already finished is returned as it is; one whose process is gone is stopped here."""
        async with self._uow() as uow:
            message = await uow.messages.get(message_id, owner_id)
        if message is None or message.sender != "assistant":
            raise NotFound(f"reply {message_id} not found")
        stopped = message.finished or await self.stop_here(message_id)
        if not stopped and not await self._channel.request_stop(message_id):
            await self._finish_orphan(message_id, owner_id, "stopped", None)
        async with self._uow() as uow:
            current = await uow.messages.get(message_id, owner_id)
        if current is None:
            raise NotFound(f"reply {message_id} not found")
        return current

    # -- the generation ----------------------------------------------------------------------

    async def _generate(self, run: _Run) -> None:
        try:
            await self._write(run)
        finally:
            self._channel.end(run.reply.id)

    async def _write(self, run: _Run) -> None:
        status: FinishedStatus = "completed"
        usage: Usage = NO_USAGE
        reason = ""
        try:
            limits = self._fresh_limits()
            attached: dict[UUID, list[Attachment]] = {}
            if run.branch is not None and limits is not None:
                path = run.branch  # no attachments, and the limits read a moment ago: nothing to read
            else:
                async with self._uow() as uow:
                    if run.branch is not None:
                        path = run.branch
                    else:
                        path = branch(await uow.messages.of_conversation(run.conversation.id), run.reply)
                        if self._blobs is not None:
                            attached = await attachments_of(uow, [m.id for m in path if m.sender == "user"])
                    limits = await self._read_limits(uow)
            resolved = await self._models.resolve(run.reply.model_id)
            run.model_id = resolved.id
            if attached and self._blobs is not None:
                attached = await with_transcripts(attached, resolved, self._blobs, self._uow)
            request = await reply_request(resolved, path, limits, attachments=attached, blobs=self._blobs)
            loop = asyncio.get_running_loop()
            async for chunk in resolved.model.stream(request):
                if chunk.delta:
                    if not run.pending:
                        loop.call_soon(self._flush, run)
                    run.pending.append(chunk.delta)
                if chunk.usage is not None:
                    usage = chunk.usage
        except asyncio.CancelledError:
            status, reason = ("stopped", "") if run.stopping else ("failed", SHUTDOWN)
        except (ModelError, DomainError) as exc:  # the model failed, or is no longer available
            status, reason = "failed", exc.detail
        except Exception as exc:  # any other failure ends the reply; it must not stay in flight
            _log.exception("generation of reply %s failed", run.reply.id)
            status, reason = "failed", f"generation failed: {type(exc).__name__}"
        self._flush(run)  # the text of the last turn, before the end
        if run.abandoned:
            self._runs.pop(run.reply.id, None)
            self._publish(_terminal(run.reply, run.seq + 1, "failed", usage, GONE))
            return
        # finishing must complete even when the task is being cancelled (a stop, a shutdown)
        run.finishing = True
        finish = asyncio.ensure_future(self._finish(run, status, usage, reason))
        try:
            await asyncio.shield(finish)
        except asyncio.CancelledError:
            await finish
        finally:
            self._runs.pop(run.reply.id, None)
        if status == "completed" and finish.result():
            await self._auto_title(run)

    async def _finish(self, run: _Run, status: FinishedStatus, usage: Usage, reason: str) -> bool:
        """End a reply written here with what it wrote, from what this process holds: one
        statement stores it if its row is still in flight, with no read of it first (``False``:
        it was finished elsewhere: a stop or a sweep in another process, or deleted)."""
        reply = replace(run.reply, metadata=dict(run.reply.metadata), events=[])
        seq = run.seq + 1
        now = self._clock.now()
        reply.model_id = run.model_id or reply.model_id  # before the end: its event names the model
        _conclude(reply, status, content=run.content, seq=seq, usage=usage, reason=reason, now=now)
        async with self._uow() as uow:
            if not await uow.messages.finish(reply):
                return False
            await self._charge(uow, reply, usage, now)
            await uow.commit()
        self._publish(_terminal(reply, seq, status, usage, reason))
        return True

    async def _finish_orphan(
        self, message_id: UUID, owner_id: UUID, status: FinishedStatus, reason: str | None
    ) -> None:
        """End a reply no process writes any more with all the text it streamed: what its last
        checkpoint stored, then the chunks the channel kept beyond it (read before the row is
        locked: no transaction waits on the broker), so subscribers and storage agree."""
        tail = await self._kept_chunks(message_id)

        def written(stored: Message) -> tuple[str, int]:
            content, seq = stored.content, int(stored.metadata.get(CHECKPOINT_SEQ_KEY, 0))
            for chunk in tail:
                if chunk.seq == seq + 1:
                    content, seq = content + chunk.data, chunk.seq
            return content, seq

        await self._end(message_id, owner_id, status=status, reason=reason or LOST, written=written)

    async def _end(
        self,
        message_id: UUID,
        owner_id: UUID,
        *,
        status: FinishedStatus,
        reason: str,
        written: Callable[[Message], tuple[str, int]],
        usage: Usage = NO_USAGE,
        model_id: UUID | None = None,
    ) -> Message | None:
        """Commit a reply's end once, with its content and last frame's ``seq`` as ``written``
        says from the stored row, then publish its terminal frame; ``None`` when it was already
        finished (by a stop, a sweep or another process)."""
        async with self._uow() as uow:
            reply = await uow.messages.get(message_id, owner_id, for_update=True)
            if reply is None or not reply.in_flight:
                return None
            content, last_seq = written(reply)
            seq = last_seq + 1
            now = self._clock.now()
            reply.model_id = model_id or reply.model_id
            _conclude(reply, status, content=content, seq=seq, usage=usage, reason=reason, now=now)
            await uow.messages.update(reply)
            await self._charge(uow, reply, usage, now)
            await uow.commit()
        self._publish(_terminal(reply, seq, status, usage, reason))
        return reply

    async def _charge(self, uow: UnitOfWork, reply: Message, usage: Usage, now: datetime) -> None:
        if usage.total_tokens:
            limits = await self._read_limits(uow)
            await record_usage(reply.owner_id, now, limits, uow, tokens=usage.total_tokens)

    def _fresh_limits(self) -> ChatLimits | None:
        read = self._limits
        return read[1] if read is not None and time.monotonic() - read[0] < LIMITS_FRESH_S else None

    async def _read_limits(self, uow: UnitOfWork) -> ChatLimits:
        fresh = self._fresh_limits()
        if fresh is not None:
            return fresh
        limits = await uow.settings.limits()
        self._limits = (time.monotonic(), limits)
        return limits

    async def _kept_chunks(self, message_id: UUID) -> list[ReplyChunk]:
        """The chunks the channel still keeps of a reply, in order (none when it keeps nothing)."""
        chunks: list[ReplyChunk] = []
        try:
            if not await self._channel.has_frames(message_id):
                return chunks
            async with self._channel.follow(message_id) as feed:
                while (frame := await feed.next(ORPHAN_READ_QUIET_S)) is not None:
                    if not isinstance(frame, ReplyChunk):
                        break
                    chunks.append(frame)
        except Exception as exc:  # the broker away: the checkpoint alone stands
            _log.warning("the kept frames of reply %s could not be read: %s", message_id, exc)
        return chunks

    async def _auto_title(self, run: _Run) -> None:
        """After the first exchange the model titles the conversation, unless its owner did;
        a failure leaves the title empty and says why in the log."""
        if run.conversation.title_source != "none":
            return  # titled when the message was posted (a title is never taken back): nothing to read
        try:
            async with self._uow() as uow:
                conversation = await uow.conversations.get(run.conversation.id, run.conversation.owner_id)
                if conversation is None or not conversation.wants_auto_title:
                    return
                history = await uow.messages.of_conversation(conversation.id)
            resolved = await self._models.resolve(run.reply.model_id)
            completion = await resolved.model.complete(title_request(resolved, history, run.reply))
            async with self._uow() as uow:
                conversation = await uow.conversations.get(
                    run.conversation.id, run.conversation.owner_id, for_update=True
                )
                titled = conversation is not None and conversation.auto_title(
                    title_of(completion.content), self._clock.now()
                )
                if conversation is not None and titled:
                    await uow.conversations.update(conversation)
                    await uow.commit()
        except ModelError as exc:
            _log.warning("auto title of conversation %s failed: %s", run.conversation.id, exc.detail)
        except Exception:
            _log.exception("auto title of conversation %s failed", run.conversation.id)

    def _flush(self, run: _Run) -> None:
        """One frame for the text the model gave since the last one: a model that delivers several
        tokens at once (a fast server's stream read in one go, the offline model at full speed)
        costs one frame, not one a token; one paced token a turn is still a frame each."""
        if not run.pending:
            return  # flushed already: the reply ended in the same turn
        data = "".join(run.pending)
        run.pending.clear()
        run.parts.append(data)
        run.seq += 1
        run.dirty = True
        self._publish(
            ReplyChunk(message_id=run.reply.id, conversation_id=run.conversation.id, seq=run.seq, data=data)
        )

    def _publish(self, frame: ReplyFrame) -> None:
        try:
            self._channel.publish(frame)
        except Exception as exc:  # the broker away: subscribers fall back to the stored content
            _log.warning("a frame of reply %s was not published: %s", frame.message_id, exc)

    # -- the loops ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self, finish_within_s: float = 0.0):  # type: ignore[no-untyped-def]
        """Checkpoints, sweeps and stop requests while open. On exit (the process stops) the
        replies still being written get ``finish_within_s`` to end by themselves, their
        followers reading on through the channel from another process (a rolling restart cuts
        no reply); those left then are failed (``SHUTDOWN``) so their owners can regenerate them."""
        async with self._channel.serve_stops(self.stop_here):
            loops = [asyncio.create_task(self._checkpoints()), asyncio.create_task(self._sweeps())]
            try:
                yield self
            finally:
                await self._let_runs_finish(finish_within_s)
                self._closing = True
                for loop in loops:
                    loop.cancel()
                runs = [run.task for run in list(self._runs.values()) if run.task is not None]
                for task in runs:
                    task.cancel()
                await asyncio.gather(*loops, *runs, return_exceptions=True)

    async def _let_runs_finish(self, within_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while tasks := [run.task for run in self._runs.values() if run.task and not run.task.done()]:
            left = deadline - loop.time()
            if left <= 0:
                _log.warning("stopping: %d replies still being written are failed", len(tasks))
                return
            _log.info("stopping: waiting up to %.0f s for %d replies to finish", left, len(tasks))
            await asyncio.wait(tasks, timeout=left)

    async def checkpoint(self) -> None:
        """One statement for every reply written here: the content of those that moved on, and
        every lease renewed. A reply no longer in flight there (deleted with its conversation or
        its user, or finished elsewhere) stops being written."""
        runs = [run for run in self._runs.values() if not run.finishing]
        if not runs:
            return
        contents = [(run.reply.id, run.content if run.dirty else None, run.seq) for run in runs]
        for run in runs:
            run.dirty = False
        async with self._uow() as uow:
            alive = await uow.leases.checkpoint(contents, self._clock.now() + self._lease)
            await uow.commit()
        for run in runs:
            gone = run.reply.id not in alive and not run.finishing  # not ended here meanwhile
            if gone and run.task is not None and not run.task.done():
                run.abandoned = True
                run.task.cancel()

    async def sweep(self, limit: int = 100) -> int:
        """Fail the replies whose process is gone; returns how many."""
        now = self._clock.now()
        async with self._uow() as uow:
            lapsed = await uow.leases.lapsed(now, unleased_since=now - self._lease, limit=limit)
        for message_id, owner_id in lapsed:
            if message_id not in self._runs:
                await self._finish_orphan(message_id, owner_id, "failed", LOST)
        return len(lapsed)

    async def _checkpoints(self) -> None:
        while True:
            await asyncio.sleep(self._checkpoint_s)
            try:
                await self.checkpoint()
            except Exception:
                _log.exception("checkpoint failed")

    async def _sweeps(self) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 2)
            try:
                await self.sweep()
            except Exception:
                _log.exception("sweep failed")


def _conclude(
    reply: Message,
    status: FinishedStatus,
    *,
    content: str,
    seq: int,
    usage: Usage,
    reason: str,
    now: datetime,
) -> None:
    """Finish ``reply`` as ``status`` with ``content``; ``seq`` is its terminal frame's."""
    reply.metadata = {**reply.metadata, FRAMES_KEY: seq}
    if status == "completed":
        reply.complete(content=content, usage=usage, now=now)
    elif status == "stopped":
        reply.stop(content=content, usage=usage, now=now)
    else:
        reply.fail(reason=reason, content=content, usage=usage, now=now)


def _terminal(reply: Message, seq: int, status: FinishedStatus, usage: Usage, reason: str) -> ReplyFrame:
    if status == "failed":
        return ReplyError(message_id=reply.id, conversation_id=reply.conversation_id, seq=seq, detail=reason)
    return ReplyDone(
        message_id=reply.id, conversation_id=reply.conversation_id, seq=seq, status=status, usage=usage
    )
