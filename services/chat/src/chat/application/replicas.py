"""Keep chat's replicas of orchestrator's AI-model registry and system settings.

Rules:
* the consumer's transaction holds the inbox row, so a redelivered event is applied once;
* an event older than the state a replica holds (``occurred_at`` < its ``changed_at``)
  changes nothing, so out-of-order delivery is harmless;
* a deleted model is a tombstone: kept, never callable again, and no older event revives it;
* an API key is kept sealed as the event carried it: only the model catalog unseals it, to call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from chat.application.ports import UnitOfWork
from chat.application.ports.replicas import ModelReplica


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelDeleted:
    model_id: UUID
    name: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsChanged:
    """New values by setting name, as of ``at`` (one admin change, applied together)."""

    values: Sequence[tuple[str, Any]]
    at: datetime


async def on_model_changed(model: ModelReplica, uow: UnitOfWork) -> bool:
    """Apply a model's state as orchestrator announced it (created or updated). ``True``: applied."""
    async with uow:
        changed = await uow.models.save(model)
        await uow.commit()
    return changed


async def on_model_deleted(event: ModelDeleted, uow: UnitOfWork) -> bool:
    """Tombstone the model: requests naming it are refused from now on. ``True``: applied."""
    async with uow:
        changed = await uow.models.tombstone(event.model_id, event.name, event.at)
        await uow.commit()
    return changed


async def on_settings_changed(event: SettingsChanged, uow: UnitOfWork) -> int:
    """Apply each new value (every setting is replicated, chat's or not: the event is the
    registry's, and a later chat may obey more of it). Answers how many changed."""
    async with uow:
        changed = 0
        for name, value in event.values:
            changed += await uow.settings.save(name, value, event.at)
        await uow.commit()
    return changed
