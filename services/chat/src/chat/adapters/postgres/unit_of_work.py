"""chat's unit of work: the shared transaction and outbox staging (``shared.db.unit_of_work``),
with chat's repositories on its connection.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.attachments import SqlAlchemyAttachmentRepository
from chat.adapters.postgres.conversation_lists import SqlAlchemyConversationLists
from chat.adapters.postgres.conversations import SqlAlchemyConversationRepository, SqlAlchemyMessageRepository
from chat.adapters.postgres.leases import SqlAlchemyLeases
from chat.adapters.postgres.model_replicas import SqlAlchemyModelReplicas
from chat.adapters.postgres.ownership import SqlAlchemyOwnership
from chat.adapters.postgres.setting_replicas import SqlAlchemySettingsReplica
from chat.adapters.postgres.usage import SqlAlchemyUsageLedger
from chat.application.ports import ConversationRepository, MessageRepository
from chat.application.ports.attachments import AttachmentRepository
from chat.application.ports.budgets import UsageLedger
from chat.application.ports.conversation_lists import ConversationLists
from chat.application.ports.ownership import Ownership
from chat.application.ports.replicas import ModelReplicas, SettingsReplica
from chat.application.ports.replies import Leases
from chat.domain.events import Recorded
from shared.db import unit_of_work
from shared.erasure.ledger import SqlAlchemyErasureLedger
from shared.kernel.erasure import ErasureLedger


class SqlAlchemyUnitOfWork(unit_of_work.SqlAlchemyUnitOfWork[Recorded]):
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

    def attach_repositories(self, conn: AsyncConnection) -> None:
        self.erasures = SqlAlchemyErasureLedger(conn, self.seen)
        self.conversations = SqlAlchemyConversationRepository(conn, self.seen)
        self.messages = SqlAlchemyMessageRepository(conn, self.seen)
        self.ownership = SqlAlchemyOwnership(conn)
        self.conversation_lists = SqlAlchemyConversationLists(conn)
        self.settings = SqlAlchemySettingsReplica(conn)
        self.models = SqlAlchemyModelReplicas(conn)
        self.usage = SqlAlchemyUsageLedger(conn)
        self.attachments = SqlAlchemyAttachmentRepository(conn)
        self.leases = SqlAlchemyLeases(conn)
