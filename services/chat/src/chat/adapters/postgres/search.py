"""Full-text search in one statement on the raw read pool: rank and page first, snippets last.

The tsvector columns are generated (``messages.search``, ``conversations.search``: migration
0004), so the index is in sync with every write's own transaction. One SELECT sees one snapshot
and needs no transaction around it: it runs on the asyncpg read pool (``shared.db.pool``), one
round trip, no BEGIN/ROLLBACK, no reset on release.

The statement, inside out: the query text is parsed once (an InitPlan, ``websearch_to_tsquery``)
and matched through the GIN indexes (``messages_search_idx``, ``conversations_search_idx``);
the owner's message and title hits are ranked (``ts_rank_cd``), the page after the cursor is
cut (``ORDER BY rank DESC, id DESC LIMIT``), and only the page's rows get their snippet
(``ts_headline`` reads the whole text: by far the costliest step per row).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REAL
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from chat.adapters.postgres.tables import conversations, messages
from chat.application.ports.search import MARK_START, MARK_STOP, SearchHit, SearchPosition
from shared.db.pool import CompiledQuery

_ENGLISH: Final[sa.ColumnClause[Any]] = sa.literal_column("'english'::regconfig")
# constants inline, not bound: the compiled statement's parameters are the caller's values only
_MESSAGE: Final = sa.literal_column("'message'::text", sa.Text)
_TITLE: Final = sa.literal_column("'title'::text", sa.Text)
_PENDING: Final = sa.literal_column("'pending'", sa.Text)
# a message: up to two fragments of about 10-25 words around the matches; a title: all of it
_MESSAGE_SNIPPET: Final[sa.ColumnClause[Any]] = sa.literal_column(
    f"'StartSel={MARK_START}, StopSel={MARK_STOP}, MaxFragments=2, MaxWords=25, MinWords=10, "
    'FragmentDelimiter=" … "\''
)
_TITLE_SNIPPET: Final[sa.ColumnClause[Any]] = sa.literal_column(
    f"'StartSel={MARK_START}, StopSel={MARK_STOP}, HighlightAll=true'"
)


def _statement(*, by_archived: bool) -> sa.Select[tuple[object, ...]]:
    parsed = sa.select(
        sa.func.websearch_to_tsquery(_ENGLISH, sa.bindparam("q", type_=sa.Text)).label("query")
    ).cte("parsed")
    query = sa.select(parsed.c.query).scalar_subquery()  # parsed once for the whole statement
    owner_id = sa.bindparam("owner_id", type_=PG_UUID(as_uuid=True))

    message_hits = sa.select(
        _MESSAGE.label("kind"),
        messages.c.id,
        messages.c.conversation_id,
        messages.c.created_at,
        sa.func.ts_rank_cd(messages.c.search, query, type_=REAL).label("rank"),
    ).where(messages.c.owner_id == owner_id, messages.c.search.op("@@")(query), messages.c.status != _PENDING)
    title_hits = sa.select(
        _TITLE.label("kind"),
        conversations.c.id,
        conversations.c.id.label("conversation_id"),
        conversations.c.created_at,
        sa.func.ts_rank_cd(conversations.c.search, query, type_=REAL).label("rank"),
    ).where(conversations.c.owner_id == owner_id, conversations.c.search.op("@@")(query))
    if by_archived:
        archived = sa.bindparam("archived", type_=sa.Boolean)
        in_archived = sa.exists().where(
            conversations.c.id == messages.c.conversation_id, conversations.c.archived == archived
        )
        message_hits = message_hits.where(in_archived)
        title_hits = title_hits.where(conversations.c.archived == archived)
    hits = sa.union_all(message_hits, title_hits).subquery("hits")

    after_rank = sa.cast(sa.bindparam("after_rank"), REAL)
    after_id = sa.cast(sa.bindparam("after_id"), PG_UUID(as_uuid=True))
    page = (
        sa.select(hits)
        .where(
            sa.or_(after_rank.is_(None), sa.tuple_(hits.c.rank, hits.c.id) < sa.tuple_(after_rank, after_id))
        )
        .order_by(hits.c.rank.desc(), hits.c.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .cte("page")
    )
    # the page's rows alone reach these joins and the snippets (the LIMIT keeps the CTE apart)
    message = messages.alias("message")
    snippet = sa.case(
        (page.c.kind == _MESSAGE, sa.func.ts_headline(_ENGLISH, message.c.content, query, _MESSAGE_SNIPPET)),
        else_=sa.func.ts_headline(_ENGLISH, conversations.c.title, query, _TITLE_SNIPPET),
    )
    return (
        sa.select(
            page.c.kind,
            page.c.id,
            page.c.conversation_id,
            conversations.c.title,
            page.c.created_at,
            page.c.rank,
            snippet.label("snippet"),
        )
        .select_from(
            page.join(conversations, conversations.c.id == page.c.conversation_id).outerjoin(
                message, sa.and_(page.c.kind == _MESSAGE, message.c.id == page.c.id)
            )
        )
        .order_by(page.c.rank.desc(), page.c.id.desc())
    )


SEARCH: Final = _statement(by_archived=False)
SEARCH_BY_ARCHIVED: Final = _statement(by_archived=True)
_SEARCH: Final = CompiledQuery.of(SEARCH)
_SEARCH_BY_ARCHIVED: Final = CompiledQuery.of(SEARCH_BY_ARCHIVED)


def _hit(row: Mapping[str, object]) -> SearchHit:
    kind = row["kind"]
    return SearchHit(
        kind="message" if kind == "message" else "title",
        id=row["id"],  # type: ignore[arg-type]
        conversation_id=row["conversation_id"],  # type: ignore[arg-type]
        conversation_title=row["title"],  # type: ignore[arg-type]
        message_id=row["id"] if kind == "message" else None,  # type: ignore[arg-type]
        snippet=row["snippet"],  # type: ignore[arg-type]
        created_at=row["created_at"],  # type: ignore[arg-type]
        rank=row["rank"],  # type: ignore[arg-type]
    )


class AsyncpgSearchIndex:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def search(
        self,
        owner_id: UUID,
        text: str,
        *,
        archived: bool | None,
        after: SearchPosition | None,
        limit: int,
    ) -> list[SearchHit]:
        values: dict[str, object] = {
            "q": text,
            "owner_id": owner_id,
            "after_rank": None if after is None else after.rank,
            "after_id": None if after is None else after.id,
            "limit": limit,
        }
        if archived is None:
            rows = await _SEARCH.fetch(self._pool, **values)
        else:
            rows = await _SEARCH_BY_ARCHIVED.fetch(self._pool, **values, archived=archived)
        return [_hit(row) for row in rows]
