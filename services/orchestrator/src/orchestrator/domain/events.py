"""The base of orchestrator's domain events; adapters translate them to public contracts.

They carry no secret in plaintext: an AI model's events carry its API key only as the
opaque ``SealedKey`` an adapter (the key vault, through the use case) sealed for the
services that call models; the translator passes it on as it is.
"""

from dataclasses import dataclass
from datetime import datetime

from shared.kernel.erasure import UserErased


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Something that happened in orchestrator, recorded by the aggregate it happened to."""

    occurred_at: datetime


Recorded = DomainEvent | UserErased
"""Every event orchestrator's units of work collect: its own, and the shared erasure's receipt."""
