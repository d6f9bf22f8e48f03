"""Keep the project/task ownership replica from orchestrator's events.

The consumer's transaction holds the inbox row, so a redelivered event is never applied
twice; the replica's own rules (older facts ignored, tombstones final) make out-of-order
delivery harmless too.
"""

from __future__ import annotations

from chat.application.ports import UnitOfWork
from chat.application.ports.ownership import ProjectFact, TaskFact


async def on_project_changed(fact: ProjectFact, uow: UnitOfWork) -> bool:
    """Apply one project fact; a deleted project takes its tasks with it. ``True``: applied."""
    async with uow:
        changed = await uow.ownership.record_project(fact)
        await uow.commit()
    return changed


async def on_task_changed(fact: TaskFact, uow: UnitOfWork) -> bool:
    """Apply one task fact. ``True``: applied."""
    async with uow:
        changed = await uow.ownership.record_task(fact)
        await uow.commit()
    return changed
