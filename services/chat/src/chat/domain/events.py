"""The base of chat's domain events; adapters translate them to public contracts.

They never carry message content: ids, owner, links, usage and status only.
"""

from dataclasses import dataclass
from datetime import datetime

from shared.kernel.erasure import UserErased


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Something that happened in chat, recorded by the aggregate it happened to."""

    occurred_at: datetime


Recorded = DomainEvent | UserErased
"""Every event chat's units of work collect: its own, and the shared erasure's receipt."""
