"""chat's erase rule: what "everything a deleted user owns" means here.

The rest of the erasure (the ledger, the receipt event, idempotency, the consumer of
``identity.user.deleted``) is shared: ``shared.kernel.erasure`` and ``shared.erasure``.
"""

from __future__ import annotations

from uuid import UUID

from chat.application.ports import UnitOfWork


async def erase_users_data(uow: UnitOfWork, user_id: UUID) -> None:
    """Delete everything ``user_id`` owns in chat, inside ``uow``'s open transaction.

    Runs in the same transaction as the erasure's ledger row and receipt, and never
    commits. Deleting their conversations deletes their messages and branches (they
    cascade). Each issue that adds a table holding a user's data (attachments,
    generations, budgets) adds its deletion here, through that table's repository on ``uow``.
    """
    await uow.conversations.delete_owned_by(user_id)
    await uow.ownership.forget_owner(user_id)
    await uow.usage.delete_owned_by(user_id)
    # the rows here; their files go with the worker's next blob sweep, after this commits
    await uow.attachments.delete_owned_by(user_id)
