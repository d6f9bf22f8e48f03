"""Attachment rows in PostgreSQL (SQLAlchemy Core; rows mapped explicitly)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.tables import attachments
from chat.domain.attachments import Attachment, Kind

_IDS = sa.bindparam("ids", type_=ARRAY(PgUUID(as_uuid=True)))
_MESSAGE_IDS = sa.bindparam("message_ids", type_=ARRAY(PgUUID(as_uuid=True)))
_OWNER = attachments.c.owner_id == sa.bindparam("owner_id")

# one lock per owner, for this transaction: uploads (the per-user total) and blob sweeps
_LOCK_OWNER = sa.select(
    sa.func.pg_advisory_xact_lock(
        sa.func.hashtextextended(
            sa.literal("chat.attachments:")
            + sa.cast(sa.bindparam("owner_id", type_=PgUUID(as_uuid=True)), sa.Text),
            0,
        )
    )
)
_BYTES_USED = sa.select(sa.func.coalesce(sa.func.sum(attachments.c.size_bytes), 0)).where(_OWNER)
_INSERT = attachments.insert()
_ONE = sa.select(attachments).where(attachments.c.id == sa.bindparam("id"), _OWNER)
_MANY = sa.select(attachments).where(attachments.c.id == sa.func.any(_IDS), _OWNER)
_MANY_FOR_UPDATE = _MANY.with_for_update()
# attachments_owner_id_idx (owner_id, id); ids are UUIDv7, so newest first
_PAGE = sa.select(attachments).where(_OWNER).order_by(attachments.c.id.desc()).limit(sa.bindparam("limit"))
_PAGE_BEFORE = _PAGE.where(attachments.c.id < sa.bindparam("before_id"))
_ATTACH = (
    attachments.update()
    .where(attachments.c.id == sa.func.any(_IDS))
    .values(message_id=sa.bindparam("message_id"))
)
# attachments_message_id_idx
_OF_MESSAGES = (
    sa.select(attachments)
    .where(attachments.c.message_id == sa.func.any(_MESSAGE_IDS))
    .order_by(attachments.c.id)
)
_DELETE = attachments.delete().where(attachments.c.id == sa.bindparam("id"))
_SET_TRANSCRIPT = (
    attachments.update()
    .where(attachments.c.id == sa.bindparam("key"), attachments.c.transcript.is_(None))
    .values(transcript=sa.bindparam("text"))
)
_DELETE_OWNED = attachments.delete().where(_OWNER)
_BLOBS_OF = sa.select(attachments.c.sha256).where(_OWNER).distinct()
_OWNERS = sa.bindparam("owner_ids", type_=ARRAY(PgUUID(as_uuid=True)))
# attachments_owner_id_idx answers each owner's EXISTS
_WITHOUT_ATTACHMENTS = sa.select(sa.func.unnest(_OWNERS).column_valued("owner_id")).except_(
    sa.select(attachments.c.owner_id).where(attachments.c.owner_id == sa.func.any(_OWNERS))
)


def attachment_from_row(row: Mapping[Any, Any]) -> Attachment:
    return Attachment(
        id=row["id"],
        owner_id=row["owner_id"],
        message_id=row["message_id"],
        kind=cast(Kind, row["kind"]),
        media_type=row["media_type"],
        filename=row["filename"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        created_at=row["created_at"],
        transcript=row["transcript"],
    )


def _row_of(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "owner_id": attachment.owner_id,
        "message_id": attachment.message_id,
        "kind": attachment.kind,
        "media_type": attachment.media_type,
        "filename": attachment.filename,
        "size_bytes": attachment.size_bytes,
        "sha256": attachment.sha256,
        "transcript": attachment.transcript,
        "created_at": attachment.created_at,
    }


class SqlAlchemyAttachmentRepository:
    """:class:`~chat.application.ports.attachments.AttachmentRepository` on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lock_owner(self, owner_id: UUID) -> None:
        await self._conn.execute(_LOCK_OWNER, {"owner_id": owner_id})

    async def bytes_used(self, owner_id: UUID) -> int:
        return int((await self._conn.execute(_BYTES_USED, {"owner_id": owner_id})).scalar_one())

    async def add(self, attachment: Attachment) -> None:
        await self._conn.execute(_INSERT, _row_of(attachment))

    async def get(self, attachment_id: UUID, owner_id: UUID) -> Attachment | None:
        row = (await self._conn.execute(_ONE, {"id": attachment_id, "owner_id": owner_id})).mappings().first()
        return None if row is None else attachment_from_row(row)

    async def get_many(
        self, attachment_ids: Collection[UUID], owner_id: UUID, *, for_update: bool = False
    ) -> Sequence[Attachment]:
        statement = _MANY_FOR_UPDATE if for_update else _MANY
        result = await self._conn.execute(statement, {"ids": list(attachment_ids), "owner_id": owner_id})
        return [attachment_from_row(row) for row in result.mappings()]

    async def page(self, owner_id: UUID, *, before_id: UUID | None, limit: int) -> Sequence[Attachment]:
        values: dict[str, Any] = {"owner_id": owner_id, "limit": limit}
        statement = _PAGE
        if before_id is not None:
            statement, values["before_id"] = _PAGE_BEFORE, before_id
        return [attachment_from_row(row) for row in (await self._conn.execute(statement, values)).mappings()]

    async def attach(self, attachment_ids: Collection[UUID], message_id: UUID) -> None:
        await self._conn.execute(_ATTACH, {"ids": list(attachment_ids), "message_id": message_id})

    async def of_messages(self, message_ids: Collection[UUID]) -> Sequence[Attachment]:
        result = await self._conn.execute(_OF_MESSAGES, {"message_ids": list(message_ids)})
        return [attachment_from_row(row) for row in result.mappings()]

    async def delete(self, attachment_id: UUID) -> None:
        await self._conn.execute(_DELETE, {"id": attachment_id})

    async def keep_transcript(self, attachment_id: UUID, transcript: str) -> None:
        await self._conn.execute(_SET_TRANSCRIPT, {"key": attachment_id, "text": transcript})

    async def delete_owned_by(self, owner_id: UUID) -> int:
        return (await self._conn.execute(_DELETE_OWNED, {"owner_id": owner_id})).rowcount

    async def blobs_of(self, owner_id: UUID) -> set[str]:
        return set((await self._conn.execute(_BLOBS_OF, {"owner_id": owner_id})).scalars())

    async def without_attachments(self, owner_ids: Collection[UUID]) -> set[UUID]:
        if not owner_ids:
            return set()
        result = await self._conn.execute(_WITHOUT_ATTACHMENTS, {"owner_ids": list(owner_ids)})
        return set(result.scalars())
