"""Erasing a deleted user removes every project they own and all it holds (interviews, prompts,
tasks, their dependencies and activity, commits, chat-session links), and nothing of anyone
else's; the receipt goes to the outbox with it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from services.orchestrator.tests.integration.interview_steps import completed_interview, new_project

from orchestrator.adapters.messaging.translators import to_contract
from orchestrator.adapters.postgres import tables
from orchestrator.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.application.erasure import erase_users_data
from shared.kernel.clock import SystemClock
from shared.kernel.erasure import EraseUser, erase_user
from shared.kernel.ids import new_id
from shared.messaging.outbox import OutboxWriter
from shared.messaging.outbox_schema import outbox

pytestmark = pytest.mark.asyncio

OWNED = ("projects", "interviews", "prompts", "tasks", "commits")


async def some_of_everything(api, who) -> str:
    project_id = await new_project(api, who)
    interview = (await completed_interview(api, who, project_id))["interview"]
    prompt = await api.post(
        f"/api/v1/projects/{project_id}/prompts/generate",
        json={"interview_id": interview["id"]},
        headers=who.headers,
    )
    assert prompt.status_code == 201, prompt.text
    planned = await api.post(
        f"/api/v1/projects/{project_id}/tasks/generate",
        json={"prompt_id": prompt.json()["id"], "num_tasks": 4, "mode": "replace"},
        headers=who.headers,
    )
    assert planned.status_code == 201, planned.text
    task_id = planned.json()["tasks"][0]["id"]
    moved = await api.post(f"/api/v1/tasks/{task_id}/move", json={"status": "done"}, headers=who.headers)
    assert moved.status_code == 200, moved.text
    commit = await api.post(
        f"/api/v1/projects/{project_id}/commits",
        json={"sha": "abcdef1", "message": "feat: add the cart", "task_id": task_id},
        headers=who.headers,
    )
    assert commit.status_code == 201, commit.text
    return project_id


async def rows_of(engine, project_id: str) -> dict[str, int]:
    async with engine.connect() as conn:
        counts = {}
        for name in OWNED:
            table = tables.metadata.tables[name]
            column = table.c.id if name == "projects" else table.c.project_id
            counts[name] = (
                await conn.execute(sa.select(sa.func.count()).where(column == project_id))
            ).scalar_one()
        return counts


async def test_erasing_a_user_removes_all_their_projects_hold_and_nothing_of_others(
    api, caller, service_engine
):
    alice, bob = caller(), caller()
    alices = await some_of_everything(api, alice)
    bobs = await some_of_everything(api, bob)
    assert all(await rows_of(service_engine, alices)), await rows_of(service_engine, alices)

    uow = SqlAlchemyUnitOfWork.from_engine(service_engine, OutboxWriter("/aiorch/orchestrator"), to_contract)
    await erase_user(
        EraseUser(user_id=alice.user_id, cause_event_id=new_id()), uow, SystemClock(), erase_users_data
    )

    assert await rows_of(service_engine, alices) == dict.fromkeys(OWNED, 0)
    assert all((await rows_of(service_engine, bobs)).values())
    async with service_engine.connect() as conn:
        receipts = (
            await conn.execute(
                sa.select(sa.func.count()).where(outbox.c.subject == "orchestrator.user.erased")
            )
        ).scalar_one()
    assert receipts == 1
    gone = await api.get(f"/api/v1/projects/{alices}", headers=alice.headers)
    assert gone.status_code == 404


async def test_erasing_an_admin_keeps_their_settings_changes_on_record_without_them(
    api, caller, service_engine
):
    admin, other = caller("admin"), caller("admin")
    changed = await api.put(
        "/api/v1/settings", json={"values": {"interview.max_questions": 7}}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text

    uow = SqlAlchemyUnitOfWork.from_engine(service_engine, OutboxWriter("/aiorch/orchestrator"), to_contract)
    await erase_user(
        EraseUser(user_id=admin.user_id, cause_event_id=new_id()), uow, SystemClock(), erase_users_data
    )

    audit = (await api.get("/api/v1/settings/audit", headers=other.headers)).json()["items"]
    assert [(e["name"], e["new"], e["actor_id"]) for e in audit] == [("interview.max_questions", 7, None)]
    async with service_engine.connect() as conn:
        setters = (await conn.execute(sa.select(tables.system_settings.c.updated_by))).scalars().all()
    assert setters == [None]
