"""Time-ordered identifiers (UUIDv7) so primary-key inserts stay index-friendly."""

from uuid import UUID

import uuid6


def new_id() -> UUID:
    """A fresh UUIDv7 as a standard :class:`uuid.UUID`."""
    return UUID(int=uuid6.uuid7().int)
