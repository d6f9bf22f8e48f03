"""``/api/v1/settings``: users read the public settings, admins read all, change them all or nothing,
and every change is audited and announced."""

import msgspec
import sqlalchemy as sa

from shared.kernel.ids import new_id


async def outbox(service_engine) -> list[dict]:
    async with service_engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT payload FROM outbox ORDER BY id"))).all()
    return [msgspec.json.decode(row.payload) for row in rows]


async def test_a_user_reads_the_public_settings_and_an_admin_all(api, caller):
    user, admin = caller(), caller("admin")

    public = {s["name"]: s for s in (await api.get("/api/v1/settings", headers=user.headers)).json()}
    everything = {s["name"] for s in (await api.get("/api/v1/settings", headers=admin.headers)).json()}

    assert "interview.max_questions" in public
    assert "ai.request_timeout_s" not in public
    assert "ai.request_timeout_s" in everything
    budget = public["chat.budget.tokens_per_window"]
    assert (budget["type"], budget["value"], budget["is_set"]) == ("integer", budget["default"], False)
    assert budget["description"]


async def test_an_admin_change_applies_is_audited_and_announced(api, caller, service_engine):
    admin = caller("admin")

    changed = await api.put(
        "/api/v1/settings",
        json={"values": {"interview.max_questions": 5, "ai.request_timeout_s": 30}},
        headers=admin.headers,
    )

    assert changed.status_code == 200, changed.text
    now = {s["name"]: s["value"] for s in changed.json()}
    assert (now["interview.max_questions"], now["ai.request_timeout_s"]) == (5, 30)
    audit = (await api.get("/api/v1/settings/audit", headers=admin.headers)).json()["items"]
    assert {(e["name"], e["old"], e["new"], e["actor_id"]) for e in audit} == {
        ("interview.max_questions", 12, 5, str(admin.user_id)),
        ("ai.request_timeout_s", 120, 30, str(admin.user_id)),
    }
    [event] = [
        e for e in await outbox(service_engine) if e["type"] == "aiorch.orchestrator.settings.changed.v1"
    ]
    assert {c["name"]: c["new"] for c in event["changes"]} == {
        "interview.max_questions": 5,
        "ai.request_timeout_s": 30,
    }


async def test_an_invalid_change_lists_every_error_and_changes_nothing(api, caller, service_engine):
    admin = caller("admin")

    refused = await api.put(
        "/api/v1/settings",
        json={
            "values": {
                "interview.max_questions": 0,
                "chat.budget.window_seconds": "daily",
                "no.such.setting": 1,
                "chat.budget.messages_per_window": 10,
                "default_model_id": str(new_id()),
            }
        },
        headers=admin.headers,
    )

    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in refused.json()["errors"]} == {
        "$.values['interview.max_questions']",
        "$.values['chat.budget.window_seconds']",
        "$.values['no.such.setting']",
        "$.values['default_model_id']",
    }
    current = {s["name"]: s for s in (await api.get("/api/v1/settings", headers=admin.headers)).json()}
    assert not current["chat.budget.messages_per_window"]["is_set"]
    assert await outbox(service_engine) == []


async def test_a_reset_puts_the_default_back_and_is_audited(api, caller):
    admin = caller("admin")
    await api.put("/api/v1/settings", json={"values": {"interview.max_questions": 5}}, headers=admin.headers)

    reset = await api.put(
        "/api/v1/settings", json={"reset": ["interview.max_questions"]}, headers=admin.headers
    )

    now = {s["name"]: s for s in reset.json()}
    assert (now["interview.max_questions"]["value"], now["interview.max_questions"]["is_set"]) == (12, False)
    audit = (
        await api.get(
            "/api/v1/settings/audit", params={"name": "interview.max_questions"}, headers=admin.headers
        )
    ).json()["items"]
    assert [(e["old"], e["new"]) for e in audit] == [(5, 12), (12, 5)]


async def test_the_default_model_setting_takes_an_enabled_model(api, caller):
    admin = caller("admin")
    model = {"name": "offline", "provider": "offline", "model": "offline"}
    model_id = (await api.post("/api/v1/ai-models", json=model, headers=admin.headers)).json()["id"]

    chosen = await api.put(
        "/api/v1/settings", json={"values": {"default_model_id": model_id}}, headers=admin.headers
    )

    assert chosen.status_code == 200
    assert {s["name"]: s["value"] for s in chosen.json()}["default_model_id"] == model_id


async def test_users_get_403_on_changes_and_the_audit(api, caller):
    user = caller()

    answers = [
        await api.put(
            "/api/v1/settings", json={"values": {"interview.max_questions": 5}}, headers=user.headers
        ),
        await api.get("/api/v1/settings/audit", headers=user.headers),
    ]

    assert [a.status_code for a in answers] == [403, 403]


async def test_the_audit_pages_newest_first(api, caller):
    admin = caller("admin")
    for questions in (3, 4, 5):
        await api.put(
            "/api/v1/settings", json={"values": {"interview.max_questions": questions}}, headers=admin.headers
        )

    first = (await api.get("/api/v1/settings/audit", params={"limit": 2}, headers=admin.headers)).json()
    rest = (
        await api.get(
            "/api/v1/settings/audit", params={"cursor": first["next_cursor"]}, headers=admin.headers
        )
    ).json()

    assert [e["new"] for e in first["items"] + rest["items"]] == [5, 4, 3]
    assert rest["next_cursor"] is None
