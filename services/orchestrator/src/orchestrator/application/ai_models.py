"""The AI-model registry: admins create, change and delete models; users read the enabled ones.

Rules (besides the aggregate's): names are unique (409); making a model the default
takes the mark from the one that had it, in the same transaction (each gets its event);
an API key is encrypted before it is kept and sealed before it is told, and the plaintext
never leaves the command it came in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.ports.ai_models import ApiKeyVault
from orchestrator.domain.ai_models import AIModel, Provider, SealedKey
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.ids import new_id
from shared.kernel.pagination import Page

CHANGEABLE: Final = frozenset(
    {"name", "provider", "base_url", "model", "parameters", "enabled", "is_default"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateAIModel:
    name: str
    provider: Provider
    base_url: str | None
    model: str
    parameters: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    is_default: bool = False
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateAIModel:
    model_id: UUID
    changes: Mapping[str, Any]
    """New values by field name (of :data:`CHANGEABLE`); absent fields stay as they are."""
    api_key: str | None = field(default=None, repr=False)
    """A new key; ``None`` keeps the one there is."""
    remove_api_key: bool = False


async def create_ai_model(
    cmd: CreateAIModel, uow: UnitOfWork, *, vault: ApiKeyVault, clock: Clock | None = None
) -> AIModel:
    """Adds a model to the registry (admins). A 409 if the name is taken."""
    now = (clock or SystemClock()).now()
    model_id = new_id()
    protected = vault.protect(cmd.api_key, model_id) if cmd.api_key else None
    async with uow:
        if await uow.ai_models.get_by_name(cmd.name) is not None:
            raise Conflict(f"a model named {cmd.name!r} exists already")
        if cmd.is_default:
            await _take_default_from_others(uow, model_id, vault=vault, now=now)
        model = AIModel.create(
            id=model_id,
            name=cmd.name,
            provider=cmd.provider,
            base_url=cmd.base_url,
            model=cmd.model,
            parameters=cmd.parameters,
            enabled=cmd.enabled,
            is_default=cmd.is_default,
            api_key=protected.stored if protected else None,
            api_key_hint=protected.hint if protected else None,
            sealed_api_key=protected.sealed if protected else None,
            now=now,
        )
        await uow.ai_models.add(model)
        await uow.commit()
    return model


async def update_ai_model(
    cmd: UpdateAIModel, uow: UnitOfWork, *, vault: ApiKeyVault, clock: Clock | None = None
) -> AIModel:
    """Changes a model (admins): the fields given, and its key when one is given or removed."""
    now = (clock or SystemClock()).now()
    if unknown := set(cmd.changes) - CHANGEABLE:
        raise ValueError(f"not changeable: {sorted(unknown)}")  # the HTTP schema lets none through
    async with uow:
        model = await uow.ai_models.get(cmd.model_id, for_update=True)
        if model is None:
            raise NotFound(f"AI model {cmd.model_id} not found")
        name = cmd.changes.get("name")
        if name is not None and name != model.name and await uow.ai_models.get_by_name(name) is not None:
            raise Conflict(f"a model named {name!r} exists already")
        for attribute, value in cmd.changes.items():
            setattr(model, attribute, value)
        sealed: SealedKey | None
        if cmd.api_key:
            protected = vault.protect(cmd.api_key, model.id)
            model.api_key, model.api_key_hint, sealed = protected.stored, protected.hint, protected.sealed
        elif cmd.remove_api_key:
            model.api_key, model.api_key_hint, sealed = None, None, None
        else:
            sealed = vault.seal(model.api_key, model.id) if model.api_key else None
        if model.is_default:
            await _take_default_from_others(uow, model.id, vault=vault, now=now)
        model.changed(now=now, sealed_api_key=sealed)
        await uow.ai_models.update(model)
        await uow.commit()
    return model


async def delete_ai_model(model_id: UUID, uow: UnitOfWork, *, clock: Clock | None = None) -> None:
    """Removes a model (admins). Requests that named it fall back to the default model."""
    now = (clock or SystemClock()).now()
    async with uow:
        model = await uow.ai_models.get(model_id, for_update=True)
        if model is None:
            raise NotFound(f"AI model {model_id} not found")
        model.delete(now)
        await uow.ai_models.delete(model_id)
        await uow.commit()


async def visible_ai_model(model_id: UUID, uow: UnitOfWork, *, admin: bool) -> AIModel:
    """The model, for an admin; for a user only an enabled one (a disabled one is not found)."""
    async with uow:
        model = await uow.ai_models.get(model_id)
    if model is None or not (admin or model.enabled):
        raise NotFound(f"AI model {model_id} not found")
    return model


async def list_ai_models(
    uow: UnitOfWork, *, admin: bool, cursor: str | None, limit: int | None
) -> Page[AIModel]:
    """Every model for an admin, the enabled ones for a user; by name."""
    async with uow:
        return await uow.ai_models.list(enabled_only=not admin, cursor=cursor, limit=limit)


async def _take_default_from_others(
    uow: UnitOfWork, model_id: UUID, *, vault: ApiKeyVault, now: datetime
) -> None:
    previous = await uow.ai_models.get_default(for_update=True)
    if previous is None or previous.id == model_id:
        return
    previous.is_default = False
    sealed = vault.seal(previous.api_key, previous.id) if previous.api_key else None
    previous.changed(now=now, sealed_api_key=sealed)
    # before the new default is written: the partial unique index allows one at a time
    await uow.ai_models.update(previous)


LOCAL: Final = "local"


async def register_local_model(
    base_url: str, model: str, uow: UnitOfWork, *, vault: ApiKeyVault, clock: Clock | None = None
) -> AIModel:
    """The enabled model named ``local`` (provider ``local``) at ``base_url``: created, or
    updated if it differs; unchanged (no event) when it is already so. Idempotent, for every
    API start with a local model server."""
    async with uow:
        existing = await uow.ai_models.get_by_name(LOCAL)
    if existing is None:
        command = CreateAIModel(name=LOCAL, provider="local", base_url=base_url, model=model)
        return await create_ai_model(command, uow, vault=vault, clock=clock)
    wanted = {"provider": "local", "base_url": base_url, "model": model, "enabled": True}
    if all(getattr(existing, name) == value for name, value in wanted.items()):
        return existing
    return await update_ai_model(
        UpdateAIModel(model_id=existing.id, changes=wanted), uow, vault=vault, clock=clock
    )
