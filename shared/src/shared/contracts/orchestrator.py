"""Events published by orchestrator (stream ``ORCHESTRATOR``, subjects ``orchestrator.>``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from shared.contracts.base import Event, union_decoder

STREAM = "ORCHESTRATOR"
SUBJECTS = "orchestrator.>"


class UserErased(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.user.erased.v1"):
    """orchestrator holds nothing of ``user_id`` any more: the receipt for an ``identity.user.deleted``.

    Published once per user, however often the deletion is delivered.
    """

    subject: ClassVar[str] = "orchestrator.user.erased"
    user_id: UUID
    erased_at: datetime
    cause_event_id: UUID
    """The ``event_id`` of the ``identity.user.deleted`` that asked for the erasure."""

    @property
    def subject_id(self) -> str:
        return str(self.user_id)


OrchestratorEvent = UserErased
decoder = union_decoder(UserErased)
