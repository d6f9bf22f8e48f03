"""The erasure of a user's data, kept as evidence that it happened."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class Erasure:
    """orchestrator erased everything it held about ``user_id`` when asked by event ``event_id``.

    One per user: the first erasure is the evidence; a later request for the same
    user finds nothing left to erase and leaves it unchanged.
    """

    user_id: UUID
    event_id: UUID
    erased_at: datetime
