"""orchestrator's erase rule: what "everything a deleted user owns" means here.

The rest of the erasure (the ledger, the receipt event, idempotency, the consumer of
``identity.user.deleted``) is shared: ``shared.kernel.erasure`` and ``shared.erasure``.
"""

from __future__ import annotations

from uuid import UUID

from orchestrator.application.ports import UnitOfWork


async def erase_users_data(uow: UnitOfWork, user_id: UUID) -> None:
    """Delete everything ``user_id`` owns in orchestrator, inside ``uow``'s open transaction.

    Runs in the same transaction as the erasure's ledger row and receipt, and never
    commits. Every project of the user goes, and with it (by cascade) its interviews,
    prompts, tasks, commits and chat-session links. Outside projects only an admin's
    id is kept (on the settings they changed): it goes, the changes stay on record.
    """
    await uow.projects.delete_owned_by(user_id)
    await uow.settings.forget_actor(user_id)
