"""Ports to chat's replicas of orchestrator's settings and AI-model registry."""

from __future__ import annotations

from typing import Protocol

from chat.domain.limits import ChatLimits


class SettingsReplica(Protocol):
    """The system settings as chat's replica knows them (read in the unit of work's transaction)."""

    async def limits(self) -> ChatLimits:
        """Every setting chat obeys; one never replicated keeps its registry default."""
        ...
