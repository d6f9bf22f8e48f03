"""The base of chat's domain events; adapters translate them to public contracts."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Something that happened in chat, recorded by the use case that caused it."""
