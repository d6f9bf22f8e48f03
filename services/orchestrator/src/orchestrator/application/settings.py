"""System settings: everyone reads the public ones, admins read all and change them in bulk.

Rules: a change names only known settings and valid values, or nothing changes and every
error is listed; ``default_model_id`` must name an enabled model; each change leaves an
audit entry (who, when, old -> new) and the whole change one ``SettingsChanged`` event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.ports.settings import AuditEntry
from orchestrator.domain.settings import REGISTRY, SettingSpec, SystemSettings, Value
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.pagination import Page


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingView:
    spec: SettingSpec
    value: Value
    is_set: bool
    """An admin chose the value (otherwise it is the default)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeSettings:
    actor_id: UUID
    values: Mapping[str, Value] = field(default_factory=dict)
    reset: Sequence[str] = ()
    """Names put back to their default."""


def views(settings: SystemSettings, *, admin: bool) -> list[SettingView]:
    return [
        SettingView(spec=spec, value=settings.value(name), is_set=settings.is_set(name))
        for name, spec in sorted(REGISTRY.items())
        if admin or spec.public
    ]


async def read_settings(uow: UnitOfWork, *, admin: bool) -> list[SettingView]:
    """Every setting with its value, by name: the public ones for a user, all for an admin."""
    async with uow:
        settings = await uow.settings.get()
    return views(settings, admin=admin)


async def change_settings(
    cmd: ChangeSettings, uow: UnitOfWork, *, clock: Clock | None = None
) -> list[SettingView]:
    """Applies a bulk change (admins) and answers every setting as it is now.

    Raises:
        InvalidSettings: listing every unknown name and invalid value; nothing changed.
    """
    now = (clock or SystemClock()).now()
    async with uow:
        settings = await uow.settings.get(for_update=True)
        changes = settings.change(
            cmd.values,
            reset=cmd.reset,
            actor_id=cmd.actor_id,
            now=now,
            extra_problems=await _model_problems(uow, cmd.values),
        )
        if changes:
            await uow.settings.save(settings, changes, actor_id=cmd.actor_id, at=now)
            await uow.commit()
    return views(settings, admin=True)


async def settings_audit(
    uow: UnitOfWork, *, name: str | None, cursor: str | None, limit: int | None
) -> Page[AuditEntry]:
    """The audit trail, newest first (admins)."""
    async with uow:
        return await uow.settings.audit(name=name, cursor=cursor, limit=limit)


async def _model_problems(uow: UnitOfWork, values: Mapping[str, Value]) -> dict[str, str]:
    chosen = values.get("default_model_id")
    if not isinstance(chosen, str):
        return {}
    try:
        model_id = UUID(chosen)
    except ValueError:
        return {}  # the registry reports the format
    model = await uow.ai_models.get(model_id)
    if model is None or not model.enabled:
        return {"default_model_id": f"names no enabled AI model: {chosen}"}
    return {}
