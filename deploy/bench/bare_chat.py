"""The bare endpoint ``make bench`` compares chat's ``POST /conversations/{id}/messages`` with.

``POST /bare/conversations/{id}/messages?owner_id=`` runs, in one transaction on a raw asyncpg
pool (release-time reset off), the statements chat's posting runs, in the same order:

1. the conversation, locked (``FOR UPDATE``), owner-scoped (404 when it is not the owner's);
2. the settings chat's limits are made of (``setting_replicas``), the length limit checked;
3. the message counted in the current budget window and refused past it (429): one
   ``usage_windows`` upsert answering the counts;
4. the parent (the conversation's selected leaf), read by its id;
5. the user message and the pending reply inserted, the conversation updated (count, selected
   leaf, last activity).

Posting writes no outbox row: the reply's ``chat.message.completed`` is staged when the reply
ends, by the generation. The statements are chat's own SQLAlchemy Core statements
(``chat.adapters.postgres``) compiled once for asyncpg at import, so they cannot drift from the
service's; what the bare endpoint leaves out is everything around them: token verification,
the unit of work and SQLAlchemy's execution layer, the domain objects, Litestar's dependency
injection — and the reply's generation, which the service starts after each post.
It answers 202 with the same JSON as the service (``StartedResponse``).

    BARE_CHAT_DSN=postgresql://chat:...@127.0.0.1:PORT/postgres BARE_PORT=PORT \\
        .venv/bin/python deploy/bench/bare_chat.py

Settings: ``BARE_CHAT_DSN`` and ``BARE_PORT`` (required), ``BARE_WORKERS`` (1),
``BARE_POOL_SIZE`` (connections per worker, 10). It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa
from bare_serving import serve
from litestar import Litestar, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Parameter
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.compiler import SQLCompiler

from chat.adapters.postgres import conversations as conversation_statements
from chat.adapters.postgres import usage as usage_statements
from chat.adapters.postgres.setting_replicas import LIMITS
from chat.domain.limits import limits_from
from chat.entrypoints.http.reply_schemas import PostMessageRequest, ReplyResponse, StartedResponse
from shared.kernel.ids import new_id

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Statement:
    """One of chat's statements as asyncpg runs it: ``$n`` placeholders, and the constants
    SQLAlchemy binds itself (the ``IN`` list of setting names)."""

    sql: str
    names: tuple[str, ...]
    constants: Mapping[str, Any]

    @classmethod
    def of(cls, statement: sa.ClauseElement, keys: tuple[str, ...] | None = None) -> Statement:
        """``keys``: the parameters the service executes an INSERT or UPDATE with (they decide
        its columns, as SQLAlchemy decides them at execution)."""
        compiled = statement.compile(
            dialect=_DIALECT,
            column_keys=None if keys is None else list(keys),
            compile_kwargs={"render_postcompile": True},
        )
        if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
            raise ValueError("the statement did not compile to positional parameters")
        constants = {name: value for name, value in compiled.params.items() if value is not None}
        return cls(compiled.string, tuple(compiled.positiontup), constants)

    def args(self, **values: Any) -> list[Any]:
        merged = {**self.constants, **values}
        return [merged[name] for name in self.names]


# the service's statements (chat.adapters.postgres), private names included: the bench's twin
# must run exactly them
CONVERSATION_FOR_UPDATE: Final = Statement.of(conversation_statements._CONVERSATION_FOR_UPDATE)
SETTINGS: Final = Statement.of(LIMITS)
ADD_USAGE: Final = Statement.of(usage_statements._ADD)
MESSAGE: Final = Statement.of(conversation_statements._MESSAGE)
_MESSAGE_KEYS: Final = (
    "id", "conversation_id", "owner_id", "parent_id", "sender", "content", "status", "model_id", "metadata",
    "prompt_tokens", "completion_tokens", "created_at", "finished_at",
)  # fmt: skip
"""What ``SqlAlchemyMessageRepository.add`` passes (``_message_values``)."""
_CONVERSATION_KEYS: Final = (
    *(c.name for c in conversation_statements._CONVERSATION_COLUMNS if c.name != "id"),
    "key",
)
"""What ``SqlAlchemyConversationRepository.update`` passes: every column, ``id`` as ``key``."""
INSERT_MESSAGE: Final = Statement.of(conversation_statements._INSERT_MESSAGE, _MESSAGE_KEYS)
UPDATE_CONVERSATION: Final = Statement.of(
    conversation_statements._UPDATE_CONVERSATION,
    _CONVERSATION_KEYS,
)

_json = msgspec.json.Decoder()


class _Db:
    pool: asyncpg.Pool | None = None


async def _no_reset(connection: asyncpg.Connection) -> None:
    """No ``Connection.reset()`` round trip on release (as ``bare_app.py``)."""


@asynccontextmanager
async def _pool(_: Litestar) -> AsyncIterator[None]:
    size = int(os.environ.get("BARE_POOL_SIZE", "10"))
    _Db.pool = await asyncpg.create_pool(
        os.environ["BARE_CHAT_DSN"],
        min_size=size,
        max_size=size,
        reset=_no_reset,
        server_settings={"search_path": "chat"},  # as chat's engine: unqualified names are chat's
    )
    try:
        yield
    finally:
        await _Db.pool.close()


Owner = Annotated[UUID, Parameter(query="owner_id")]


@post("/bare/conversations/{conversation_id:uuid}/messages", status_code=202)
async def post_message(conversation_id: UUID, owner: Owner, data: PostMessageRequest) -> StartedResponse:
    assert _Db.pool is not None
    now = datetime.now(UTC)
    async with _Db.pool.acquire() as conn, conn.transaction():
        conversation = await conn.fetchrow(
            CONVERSATION_FOR_UPDATE.sql, *CONVERSATION_FOR_UPDATE.args(id=conversation_id, owner_id=owner)
        )
        if conversation is None:
            raise NotFoundException()
        rows = await conn.fetch(SETTINGS.sql, *SETTINGS.args())
        limits = limits_from({row[0]: _json.decode(row[1]) for row in rows})
        if len(data.content) > limits.max_message_chars:
            raise ClientException(status_code=400, detail="too long")
        window = math.floor(now.timestamp() / limits.window_seconds) * limits.window_seconds
        window_start = datetime.fromtimestamp(window, UTC)
        # the message charged in one statement, refused past the budget (chat's charge_message)
        spent = await conn.fetchrow(
            ADD_USAGE.sql, *ADD_USAGE.args(owner_id=owner, window_start=window_start, messages=1, tokens=0)
        )
        if spent[0] > limits.messages_per_window or spent[1] >= limits.tokens_per_window:
            raise ClientException(status_code=429, detail="budget")
        parent_id = conversation["selected_leaf_id"]
        if parent_id is not None:  # the parent read by its id, owner-scoped
            parent = await conn.fetchrow(MESSAGE.sql, *MESSAGE.args(id=parent_id, owner_id=owner))
            if parent is None or parent["conversation_id"] != conversation_id:
                raise ClientException(status_code=400, detail="parent")
        user_id, reply_id = new_id(), new_id()
        for message_id, parent, sender, content, status in (
            (user_id, parent_id, "user", data.content, "completed"),
            (reply_id, user_id, "assistant", "", "pending"),
        ):
            await conn.execute(
                INSERT_MESSAGE.sql,
                *INSERT_MESSAGE.args(
                    id=message_id,
                    conversation_id=conversation_id,
                    owner_id=owner,
                    parent_id=parent,
                    sender=sender,
                    content=content,
                    status=status,
                    model_id=conversation["model_id"] if sender == "assistant" else None,
                    metadata="{}",
                    prompt_tokens=0,
                    completion_tokens=0,
                    created_at=now,
                    finished_at=None,
                ),
            )
        await conn.execute(
            UPDATE_CONVERSATION.sql,
            *UPDATE_CONVERSATION.args(
                **{
                    **dict(conversation.items()),
                    "key": conversation_id,
                    "messages_count": conversation["messages_count"] + 2,
                    "selected_leaf_id": reply_id,
                    "last_activity_at": now,
                }
            ),
        )
    return StartedResponse(
        conversation_id=conversation_id,
        user_message_id=user_id,
        reply=ReplyResponse(
            id=reply_id,
            conversation_id=conversation_id,
            parent_id=user_id,
            status="pending",
            content="",
            model_id=conversation["model_id"],
            prompt_tokens=0,
            completion_tokens=0,
            created_at=now,
            finished_at=None,
        ),
        stream_url=f"/api/v1/messages/{reply_id}/stream",
    )


def create_app() -> Litestar:
    return Litestar(route_handlers=[post_message], lifespan=[_pool], openapi_config=None)


def main() -> None:
    serve("bare_chat:create_app", required=("BARE_CHAT_DSN", "BARE_PORT"), default_workers=1)


if __name__ == "__main__":
    main()
