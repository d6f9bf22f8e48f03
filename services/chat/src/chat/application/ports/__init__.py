"""The ports chat's use cases depend on; adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from chat.application.ports.attachments import AttachmentRepository
from chat.application.ports.budgets import UsageLedger
from chat.application.ports.conversation_lists import ConversationLists
from chat.application.ports.ownership import Ownership
from chat.application.ports.replicas import ModelReplicas, SettingsReplica
from chat.application.ports.replies import Leases
from chat.domain.conversations import Conversation
from chat.domain.messages import Message
from shared.kernel import unit_of_work
from shared.kernel.erasure import ErasureLedger


class ConversationRepository(Protocol):
    """Conversations, scoped to their owner: another owner's conversation is ``None``.

    ``get`` and ``add`` enroll the conversation in the unit of work, so its events are
    published when it commits; ``delete`` removes its messages too (they cascade).
    """

    async def get(
        self, conversation_id: UUID, owner_id: UUID, *, for_update: bool = False
    ) -> Conversation | None: ...

    async def add(self, conversation: Conversation) -> None: ...

    async def update(self, conversation: Conversation) -> None: ...

    async def delete(self, conversation_id: UUID) -> None: ...

    async def delete_owned_by(self, owner_id: UUID) -> int:
        """Every conversation of ``owner_id`` (and their messages); returns how many."""
        ...


class MessageRepository(Protocol):
    """The messages of conversations. ``get`` is owner-scoped (another owner's is ``None``);
    ``of_conversation`` trusts the caller to have loaded the conversation for its owner.
    A message's place in the tree (conversation, parent, sender) never changes on ``update``.
    """

    async def get(self, message_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Message | None: ...

    async def of_conversation(self, conversation_id: UUID) -> Sequence[Message]:
        """All messages of one conversation, oldest first, in one query."""
        ...

    async def add(self, message: Message) -> None: ...

    async def update(self, message: Message) -> None: ...

    async def finish(self, reply: Message) -> bool:
        """Store a reply just finished in memory (its content, status, usage, metadata) if its
        stored row is still in flight, in one statement that takes the row's lock; ``False``
        (nothing written) when it was finished elsewhere or deleted. Its event goes out on commit."""
        ...


class UnitOfWork(unit_of_work.UnitOfWork, Protocol):
    """chat's transaction (see ``shared.kernel.unit_of_work``) and its repositories.

    ``erasures`` is the shared erasure ledger (``shared.kernel.erasure``), so this is
    also the unit of work ``erase_user`` needs.
    """

    erasures: ErasureLedger
    conversations: ConversationRepository
    messages: MessageRepository
    ownership: Ownership
    conversation_lists: ConversationLists
    settings: SettingsReplica
    models: ModelReplicas
    usage: UsageLedger
    attachments: AttachmentRepository
    leases: Leases
