"""The AI-model registry in PostgreSQL (SQLAlchemy Core; rows mapped to ``AIModel`` explicitly)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.tables import ai_models
from orchestrator.domain.ai_models import AIModel, Provider, StoredKey
from orchestrator.domain.events import Recorded
from shared.kernel.aggregate import Seen
from shared.kernel.errors import Conflict
from shared.kernel.pagination import Page, clamp_limit, decode_cursor, page_from_rows

_COLUMNS = tuple(ai_models.c)
_SELECT = sa.select(*_COLUMNS)
_BY_ID = _SELECT.where(ai_models.c.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BY_NAME = _SELECT.where(ai_models.c.name == sa.bindparam("name"))
_DEFAULT = _SELECT.where(ai_models.c.is_default)
_DEFAULT_FOR_UPDATE = _DEFAULT.with_for_update()
_WITH_KEYS = _SELECT.where(ai_models.c.api_key_key_id.is_not(None)).order_by(ai_models.c.id)
_WITH_KEYS_FOR_UPDATE = _WITH_KEYS.with_for_update()
_INSERT = ai_models.insert()
_UPDATE = (
    ai_models.update()
    .where(ai_models.c.id == sa.bindparam("key"))
    .values({c.name: sa.bindparam(c.name) for c in _COLUMNS if c.name not in ("id", "created_at")})
)
_DELETE = ai_models.delete().where(ai_models.c.id == sa.bindparam("id"))


def ai_model_from_row(row: Mapping[Any, Any]) -> AIModel:
    key_id, ciphertext = row["api_key_key_id"], row["api_key_ciphertext"]
    return AIModel(
        id=row["id"],
        name=row["name"],
        provider=cast(Provider, row["provider"]),
        base_url=row["base_url"],
        model=row["model"],
        parameters=dict(row["parameters"]),
        enabled=row["enabled"],
        is_default=row["is_default"],
        api_key=StoredKey(key_id, bytes(ciphertext)) if key_id is not None else None,
        api_key_hint=row["api_key_hint"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _values(model: AIModel) -> dict[str, Any]:
    values = {c.name: getattr(model, c.name, None) for c in _COLUMNS}
    values["api_key_key_id"] = model.api_key.key_id if model.api_key else None
    values["api_key_ciphertext"] = model.api_key.ciphertext if model.api_key else None
    return values


class SqlAlchemyAIModelRepository:
    """Every model it loads or adds joins ``seen``: its events go out when the unit of work commits."""

    def __init__(self, conn: AsyncConnection, seen: Seen[Recorded]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(self, model_id: UUID, *, for_update: bool = False) -> AIModel | None:
        return await self._one(_BY_ID_FOR_UPDATE if for_update else _BY_ID, {"id": model_id})

    async def get_by_name(self, name: str) -> AIModel | None:
        return await self._one(_BY_NAME, {"name": name})

    async def get_default(self, *, for_update: bool = False) -> AIModel | None:
        return await self._one(_DEFAULT_FOR_UPDATE if for_update else _DEFAULT, {})

    async def list(self, *, enabled_only: bool, cursor: str | None, limit: int | None) -> Page[AIModel]:
        size = clamp_limit(limit)
        statement = _SELECT.order_by(ai_models.c.name).limit(size + 1)
        if enabled_only:
            statement = statement.where(ai_models.c.enabled)
        if cursor is not None:
            (after,) = decode_cursor(cursor, tuple[str])
            statement = statement.where(ai_models.c.name > after)
        rows = (await self._conn.execute(statement)).all()
        return page_from_rows([ai_model_from_row(r._mapping) for r in rows], size, lambda m: (m.name,))

    async def with_keys(self, *, for_update: bool = False) -> Sequence[AIModel]:
        statement = _WITH_KEYS_FOR_UPDATE if for_update else _WITH_KEYS
        models = [ai_model_from_row(r._mapping) for r in (await self._conn.execute(statement)).all()]
        for model in models:
            self._seen.add(model)
        return models

    async def add(self, model: AIModel) -> None:
        await self._write(_INSERT, _values(model))
        self._seen.add(model)

    async def update(self, model: AIModel) -> None:
        values = _values(model)
        values["key"] = values.pop("id")
        del values["created_at"]
        await self._write(_UPDATE, values)
        self._seen.add(model)

    async def delete(self, model_id: UUID) -> None:
        await self._conn.execute(_DELETE, {"id": model_id})

    async def _write(self, statement: Any, values: dict[str, Any]) -> None:
        # The use cases check first; these constraints catch a concurrent writer between check and write.
        try:
            await self._conn.execute(statement, values)
        except IntegrityError as exc:
            if "ai_models_one_default_idx" in str(exc.orig):
                raise Conflict("another model became the default at the same moment: try again") from None
            if "ai_models_name_key" in str(exc.orig):
                raise Conflict(f"a model named {values['name']!r} exists already") from None
            raise

    async def _one(self, statement: sa.Select[Any], params: dict[str, Any]) -> AIModel | None:
        row = (await self._conn.execute(statement, params)).first()
        if row is None:
            return None
        model = ai_model_from_row(row._mapping)
        self._seen.add(model)
        return model
