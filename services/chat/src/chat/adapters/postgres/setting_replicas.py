"""chat's replica of orchestrator's system settings in PostgreSQL (``setting_replicas``).

Every replicated setting is one row (name, JSON value, the time of the change applied last);
a setting no event has named yet has no row and keeps its registry default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.tables import setting_replicas
from chat.domain.limits import SETTING_FIELDS, ChatLimits, limits_from

LIMITS = sa.select(setting_replicas.c.name, setting_replicas.c.value).where(
    # = ANY(array), not IN (list): SQLAlchemy renders an IN of literals at every execution
    setting_replicas.c.name == sa.any_(sa.literal(sorted(SETTING_FIELDS), ARRAY(sa.Text)))
)
"""The settings :class:`ChatLimits` is made of (those replicated so far)."""

_statement = insert(setting_replicas)
_SAVE = _statement.on_conflict_do_update(
    index_elements=[setting_replicas.c.name],
    set_={"value": _statement.excluded.value, "changed_at": _statement.excluded.changed_at},
    where=setting_replicas.c.changed_at <= _statement.excluded.changed_at,
).returning(setting_replicas.c.name)


class SqlAlchemySettingsReplica:
    """:class:`~chat.application.ports.replicas.SettingsReplica` on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def limits(self) -> ChatLimits:
        return limits_from({row.name: row.value for row in await self._conn.execute(LIMITS)})

    async def save(self, name: str, value: Any, at: datetime) -> bool:
        # a JSON null (default_model_id unset) is stored as JSON: the column is NOT NULL
        params = {"name": name, "value": value, "changed_at": at}
        return (await self._conn.execute(_SAVE, params)).first() is not None
