"""Events published by chat (stream ``CHAT``, subjects ``chat.>``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from shared.contracts.base import Event, union_decoder

STREAM = "CHAT"
SUBJECTS = "chat.>"


class UserErased(Event, frozen=True, kw_only=True, tag="aiorch.chat.user.erased.v1"):
    """chat holds nothing of ``user_id`` any more: the receipt for an ``identity.user.deleted``.

    Published once per user, however often the deletion is delivered.
    """

    subject: ClassVar[str] = "chat.user.erased"
    user_id: UUID
    erased_at: datetime
    cause_event_id: UUID
    """The ``event_id`` of the ``identity.user.deleted`` that asked for the erasure."""

    @property
    def subject_id(self) -> str:
        return str(self.user_id)


ChatEvent = UserErased
decoder = union_decoder(UserErased)
