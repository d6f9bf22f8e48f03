"""The built-in offline model: deterministic answers, streamed token by token, with no key and no network.

The default model of ``make run`` and of the tests. A request with a JSON schema gets what the
writer registered under the schema's ``title`` returns (each service registers writers that
derive a *valid*, sensible answer from the messages); without a writer, a small instance of
the schema itself. A request without a schema gets a few plain sentences derived from the last
user message, ending with a question when the system prompt asks for one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import MappingProxyType

from shared.ai.schema_instance import instance_of, schema_title
from shared.kernel.ai import (
    ChatChunk,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    FinishReason,
    ModelRequestRejected,
    Usage,
    gather,
)

AnswerWriter = Callable[[ChatRequest], str]

FULL_SPEED_RUN = 32
"""Tokens the model gives back to back at pace 0 before it yields to the event loop."""

# a token: leading whitespace and a word or a run of punctuation, so even compact JSON streams in pieces
_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s]+)|\s+")
_OPENINGS = (
    "Here is what I understand",
    "Noted",
    "Understood",
    "Thanks, that helps",
)
_QUESTIONS = (
    "Who will use {topic}, and what must they be able to do first?",
    "What would make {topic} a success for you in the first release?",
    "Which constraints (deadlines, platforms, integrations) apply to {topic}?",
    "What should {topic} explicitly not do?",
)


def tokens(text: str) -> list[str]:
    """``text`` cut into stream pieces that join back to exactly ``text``."""
    return _TOKEN.findall(text)


class OfflineModel:
    """A :class:`shared.kernel.ai.ChatModel` that answers deterministically from the request alone."""

    def __init__(
        self,
        *,
        pace_s: float = 0.0,
        writers: Mapping[str, AnswerWriter] = MappingProxyType({}),
        name: str = "offline",
        min_prose_tokens: int = 0,
    ) -> None:
        self.pace_s = pace_s
        self.name = name
        self._writers = writers
        # a prose answer shorter than this goes on with filler (a load test's long replies)
        self._min_prose_tokens = min_prose_tokens

    def __repr__(self) -> str:
        return f"OfflineModel(name={self.name!r}, pace_s={self.pace_s!r}, writers={sorted(self._writers)!r})"

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        return await gather(self.stream(request))

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        text, finish = _cut_at_stop(self.answer(request), request.parameters.stop)
        pieces = tokens(text)
        limit = request.parameters.max_tokens
        if limit is not None and len(pieces) > limit:
            pieces, finish = pieces[:limit], "length"
        prompt_tokens = sum(len(m.content.split()) for m in request.messages)
        usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=len(pieces))
        if not pieces:
            yield ChatChunk(delta="", finish_reason=finish, usage=usage)
            return
        last = len(pieces) - 1
        clock = _Ticks.of(asyncio.get_running_loop()) if self.pace_s > 0 else None
        started = clock.now() if clock is not None else 0.0
        for i, piece in enumerate(pieces):
            # token i is due pace_s * i after the first, whatever the consumer spent in between (a
            # slow consumer is not slowed further); sleep(0) still yields to the loop, so one
            # running late stays cancellable. At full speed (pace 0) the tokens come in runs of
            # FULL_SPEED_RUN between yields, as a fast server's stream arrives (several events
            # a read), and a long answer still stays cancellable
            due = clock.until(started + self.pace_s * i) if clock is not None and i else None
            if due is not None:
                await due
            elif clock is not None or i % FULL_SPEED_RUN == 0:
                await asyncio.sleep(0)
            if i < last:
                yield ChatChunk(delta=piece)
            else:
                yield ChatChunk(delta=piece, finish_reason=finish, usage=usage)

    def answer(self, request: ChatRequest) -> str:
        """The whole answer the stream is cut from."""
        if request.parameters.json_schema is None:
            return _padded(_prose(request.messages), self._min_prose_tokens)
        try:
            schema = json.loads(request.parameters.json_schema)
        except ValueError as exc:
            raise ModelRequestRejected(f"the response JSON schema is not valid JSON: {exc}") from exc
        if not isinstance(schema, dict):
            raise ModelRequestRejected("the response JSON schema must be a JSON object")
        writer = self._writers.get(schema_title(schema) or "")
        if writer is not None:
            return writer(request)
        return json.dumps(instance_of(schema), ensure_ascii=False)


class _Ticks:
    """The pacing clock every offline stream of an event loop shares: one timer per millisecond
    that has tokens due, however many streams wait on it (a load test's 500 streams at 20 ms a
    token were 25,000 timers a second, one per token)."""

    _of_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Ticks] = weakref.WeakKeyDictionary()

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._due: dict[int, list[asyncio.Future[None]]] = {}

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _Ticks:
        ticks = cls._of_loop.get(loop)
        if ticks is None:
            ticks = cls._of_loop[loop] = cls(loop)
        return ticks

    def now(self) -> float:
        return self._loop.time()

    def until(self, deadline: float) -> asyncio.Future[None] | None:
        """A future done at ``deadline`` (rounded up to the millisecond); ``None`` if it has passed."""
        if deadline <= self._loop.time():
            return None
        tick = math.ceil(deadline * 1000)
        waiting = self._due.get(tick)
        if waiting is None:
            waiting = self._due[tick] = []
            self._loop.call_at(tick / 1000, self._fire, tick)
        future: asyncio.Future[None] = self._loop.create_future()
        waiting.append(future)
        return future

    def _fire(self, tick: int) -> None:
        for future in self._due.pop(tick, ()):
            if not future.done():  # a cancelled stream's
                future.set_result(None)


_FILLER = " The offline model goes on, so that a reply lasts as long as a load test asks."


def _padded(text: str, min_tokens: int) -> str:
    missing = min_tokens - len(tokens(text))
    if missing <= 0:
        return text
    return text + _FILLER * -(-missing // len(tokens(_FILLER)))


def _cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, FinishReason]:
    cuts = [text.find(s) for s in stop if s and s in text]
    return (text[: min(cuts)], "stop") if cuts else (text, "stop")


def _prose(messages: Sequence[ChatMessage]) -> str:
    said = next((m.content for m in reversed(messages) if m.role == "user"), "")
    system = " ".join(m.content for m in messages if m.role == "system").lower()
    words = said.split()
    topic = " ".join(words[:8]).rstrip(".,;:!?") or "this"
    choice = int.from_bytes(hashlib.sha256(said.encode()).digest()[:4], "big")
    opening = _OPENINGS[choice % len(_OPENINGS)]
    sentences = [
        f"{opening}: you wrote about {topic!r} ({len(words)} words).",
        "This answer comes from the offline model, which needs no key and no network.",
    ]
    if "question" in system:
        sentences.append(_QUESTIONS[choice % len(_QUESTIONS)].format(topic=f"{topic!r}"))
    else:
        sentences.append("A configured model would answer this in full.")
    return " ".join(sentences)
