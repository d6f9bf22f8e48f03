"""Where the system settings and their audit trail are kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from orchestrator.domain.settings import SettingChange, SystemSettings, Value
from shared.kernel.pagination import Page


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One setting changed by one admin: who, when, old -> new."""

    id: UUID
    name: str
    old: Value
    new: Value
    actor_id: UUID | None
    """``None`` once the admin's account was deleted and erased here."""
    at: datetime


class SettingsRepository(Protocol):
    """The values admins set (the defaults live in the code's registry). Transactional."""

    async def get(self, *, for_update: bool = False) -> SystemSettings:
        """The settings; ``for_update`` serializes changes until commit (two admins' audit
        entries then chain old -> new without a gap)."""
        ...

    async def save(
        self, settings: SystemSettings, changes: list[SettingChange], *, actor_id: UUID, at: datetime
    ) -> None:
        """Writes the changed values and one audit entry per change."""
        ...

    async def forget_actor(self, actor_id: UUID) -> None:
        """Erases ``actor_id`` from the values and the audit trail (the changes stay, anonymous)."""
        ...

    async def audit(self, *, name: str | None, cursor: str | None, limit: int | None) -> Page[AuditEntry]:
        """Newest first; only ``name``'s entries when given."""
        ...
