"""In-flight replies' checkpoints and leases in PostgreSQL (``Leases``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncConnection

# Every reply this process writes, in one statement: unnest pairs each id with its content
# (NULL: unchanged) and the seq that content reaches. Only in-flight rows move.
_CHECKPOINT = sa.text(
    """
    UPDATE messages AS m SET
        content = COALESCE(v.content, m.content),
        status = CASE WHEN v.content IS NULL THEN m.status ELSE 'streaming' END,
        metadata = CASE WHEN v.content IS NULL THEN m.metadata
                        ELSE jsonb_set(m.metadata, '{checkpoint_seq}', to_jsonb(v.seq)) END,
        lease_expires_at = :until
    FROM unnest(:ids, :contents, :seqs) AS v(id, content, seq)
    WHERE m.id = v.id AND m.status IN ('pending', 'streaming')
    RETURNING m.id
    """
).bindparams(
    sa.bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True))),
    sa.bindparam("contents", type_=ARRAY(sa.Text)),
    sa.bindparam("seqs", type_=ARRAY(sa.Integer)),
    sa.bindparam("until", type_=sa.DateTime(timezone=True)),
)
# messages_lease_idx (partial: in-flight rows only)
_LAPSED = sa.text(
    """
    SELECT id, owner_id FROM messages
    WHERE status IN ('pending', 'streaming')
      AND (lease_expires_at < :now OR (lease_expires_at IS NULL AND created_at < :unleased_since))
    ORDER BY id
    LIMIT :limit
    """
).bindparams(
    sa.bindparam("now", type_=sa.DateTime(timezone=True)),
    sa.bindparam("unleased_since", type_=sa.DateTime(timezone=True)),
)


class SqlAlchemyLeases:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def checkpoint(
        self, contents: Sequence[tuple[UUID, str | None, int]], until: datetime
    ) -> set[UUID]:
        if not contents:
            return set()
        ids, texts, seqs = zip(*contents, strict=True)
        result = await self._conn.execute(
            _CHECKPOINT, {"ids": list(ids), "contents": list(texts), "seqs": list(seqs), "until": until}
        )
        return {row.id for row in result}

    async def lapsed(self, now: datetime, *, unleased_since: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        result = await self._conn.execute(
            _LAPSED, {"now": now, "unleased_since": unleased_since, "limit": limit}
        )
        return [(row.id, row.owner_id) for row in result]
