"""chat's replica of orchestrator's AI-model registry in PostgreSQL (``model_replicas``).

Each write is one conditional upsert, so two worker replicas applying events about the same
model at once still leave the newest: an older state, or any state of a tombstone, matches no
row. A tombstone wins whatever its time: a deleted model never comes back in orchestrator.
The API key is stored sealed, as the event carried it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.tables import model_replicas
from chat.application.ports.replicas import ModelReplica

_COLUMNS = tuple(c for c in model_replicas.c if c.name != "deleted")


def _upsert(*, tombstone: bool) -> sa.Insert:
    statement = insert(model_replicas)
    moves_forward = sa.not_(model_replicas.c.deleted)
    if tombstone:
        # a tombstone keeps the last known state; only the flag and the time move
        changes: dict[str, Any] = {"deleted": True}
    else:
        moves_forward = sa.and_(moves_forward, model_replicas.c.changed_at <= statement.excluded.changed_at)
        changes = {c.name: statement.excluded[c.name] for c in model_replicas.c if c.name != "id"}
    changes["changed_at"] = sa.func.greatest(model_replicas.c.changed_at, statement.excluded.changed_at)
    return statement.on_conflict_do_update(
        index_elements=[model_replicas.c.id], set_=changes, where=moves_forward
    ).returning(model_replicas.c.id)


_SAVE = _upsert(tombstone=False)
_TOMBSTONE = _upsert(tombstone=True)

_CALLABLE = sa.and_(model_replicas.c.enabled, sa.not_(model_replicas.c.deleted))
ENABLED_BY_ID = sa.select(*_COLUMNS).where(_CALLABLE, model_replicas.c.id == sa.bindparam("id"))
"""The model ``:id`` while it is enabled and not deleted."""
# the settings' choice first, else the registry's default (the newest, should two briefly claim it)
DEFAULT = (
    sa.select(*_COLUMNS)
    .where(
        _CALLABLE,
        sa.or_(model_replicas.c.is_default, model_replicas.c.id == sa.bindparam("chosen_id")),
    )
    .order_by(
        (model_replicas.c.id == sa.bindparam("chosen_id")).desc().nulls_last(),
        model_replicas.c.changed_at.desc(),
    )
    .limit(1)
)
"""The enabled model ``:chosen_id`` (the ``default_model_id`` setting; may be null), else the
enabled registry default."""


def model_from_row(row: Mapping[Any, Any]) -> ModelReplica:
    return ModelReplica(
        id=row["id"],
        name=row["name"],
        provider=row["provider"],
        base_url=row["base_url"],
        model=row["model"],
        parameters=dict(row["parameters"] or {}),
        enabled=row["enabled"],
        is_default=row["is_default"],
        sealed_api_key=row["sealed_api_key"],
        changed_at=row["changed_at"],
    )


class SqlAlchemyModelReplicas:
    """:class:`~chat.application.ports.replicas.ModelReplicas` on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def callable(self, model_id: UUID) -> bool:
        return (await self._conn.execute(ENABLED_BY_ID, {"id": model_id})).first() is not None

    async def save(self, model: ModelReplica) -> bool:
        values = {
            "id": model.id,
            "name": model.name,
            "provider": model.provider,
            "base_url": model.base_url,
            "model": model.model,
            "parameters": dict(model.parameters),
            "enabled": model.enabled,
            "is_default": model.is_default,
            "sealed_api_key": model.sealed_api_key,
            "deleted": False,
            "changed_at": model.changed_at,
        }
        return (await self._conn.execute(_SAVE, values)).first() is not None

    async def tombstone(self, model_id: UUID, name: str, at: datetime) -> bool:
        # a model never seen (its creation not applied yet) still gets its tombstone
        values = {
            "id": model_id,
            "name": name,
            "provider": "",
            "base_url": None,
            "model": "",
            "parameters": {},
            "enabled": False,
            "is_default": False,
            "sealed_api_key": None,
            "deleted": True,
            "changed_at": at,
        }
        return (await self._conn.execute(_TOMBSTONE, values)).first() is not None
