"""``/api/v1/ai-models``: admins write, users read the enabled models, keys only masked."""

import msgspec
import sqlalchemy as sa

from shared.kernel.ids import new_id

KEY = "sk-live-0123456789abcdefWXYZ"


def body(**overrides):
    return {
        "name": "gpt",
        "provider": "openai",
        "base_url": "https://api.example.com/v1",
        "model": "gpt-4o-mini",
        "api_key": KEY,
        **overrides,
    }


async def outbox(service_engine) -> list[dict]:
    async with service_engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT payload FROM outbox ORDER BY id"))).all()
    return [msgspec.json.decode(row.payload) for row in rows]


async def test_an_admin_registers_a_model_whose_key_is_answered_masked(api, caller):
    admin = caller("admin")

    created = await api.post(
        "/api/v1/ai-models", json=body(parameters={"temperature": 0.2}), headers=admin.headers
    )

    assert created.status_code == 201, created.text
    answer = created.json()
    assert answer["api_key"] == "sk-…WXYZ"
    assert answer["parameters"] == {"temperature": 0.2}
    assert KEY not in created.text


async def test_users_get_403_on_every_admin_write(api, caller):
    admin, user = caller("admin"), caller()
    model_id = (await api.post("/api/v1/ai-models", json=body(), headers=admin.headers)).json()["id"]

    answers = [
        await api.post("/api/v1/ai-models", json=body(name="mine"), headers=user.headers),
        await api.patch(f"/api/v1/ai-models/{model_id}", json={"enabled": False}, headers=user.headers),
        await api.delete(f"/api/v1/ai-models/{model_id}", headers=user.headers),
        await api.post(f"/api/v1/ai-models/{model_id}/test", headers=user.headers),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403]


async def test_users_see_only_the_enabled_models(api, caller):
    admin, user = caller("admin"), caller()
    await api.post("/api/v1/ai-models", json=body(name="on"), headers=admin.headers)
    off = (
        await api.post("/api/v1/ai-models", json=body(name="off", enabled=False), headers=admin.headers)
    ).json()

    listed = (await api.get("/api/v1/ai-models", headers=user.headers)).json()
    everything = (await api.get("/api/v1/ai-models", headers=admin.headers)).json()

    assert [m["name"] for m in listed["items"]] == ["on"]
    assert [m["name"] for m in everything["items"]] == ["off", "on"]
    assert (await api.get(f"/api/v1/ai-models/{off['id']}", headers=user.headers)).status_code == 404
    assert (await api.get(f"/api/v1/ai-models/{off['id']}", headers=admin.headers)).status_code == 200


async def test_bad_input_is_a_problem_naming_each_field(api, caller):
    admin = caller("admin")

    answer = await api.post(
        "/api/v1/ai-models",
        json=body(base_url="ftp://example.com", provider="acme", unknown=1),
        headers=admin.headers,
    )

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"]


async def test_a_name_in_use_is_a_409(api, caller):
    admin = caller("admin")
    await api.post("/api/v1/ai-models", json=body(), headers=admin.headers)

    again = await api.post("/api/v1/ai-models", json=body(), headers=admin.headers)

    assert again.status_code == 409


async def test_a_new_default_takes_the_mark_from_the_old_one(api, caller, service_engine):
    admin = caller("admin")
    first = (
        await api.post("/api/v1/ai-models", json=body(name="a", is_default=True), headers=admin.headers)
    ).json()
    second = (
        await api.post("/api/v1/ai-models", json=body(name="b", is_default=True), headers=admin.headers)
    ).json()

    models = {
        m["name"]: m for m in (await api.get("/api/v1/ai-models", headers=admin.headers)).json()["items"]
    }

    assert (models["a"]["is_default"], models["b"]["is_default"]) == (False, True)
    events = await outbox(service_engine)
    updated = [e for e in events if e["type"] == "aiorch.orchestrator.ai_model.updated.v1"]
    assert [(e["model_id"], e["is_default"]) for e in updated] == [(first["id"], False)]
    assert second["is_default"] is True


async def test_an_update_changes_the_fields_given_and_can_remove_the_key(api, caller):
    admin = caller("admin")
    model_id = (await api.post("/api/v1/ai-models", json=body(), headers=admin.headers)).json()["id"]

    renamed = await api.patch(
        f"/api/v1/ai-models/{model_id}", json={"name": "renamed"}, headers=admin.headers
    )
    keyless = await api.patch(
        f"/api/v1/ai-models/{model_id}", json={"remove_api_key": True}, headers=admin.headers
    )

    assert (renamed.json()["name"], renamed.json()["api_key"]) == ("renamed", "sk-…WXYZ")
    assert keyless.json()["api_key"] is None


async def test_created_updated_and_deleted_are_announced_with_the_key_sealed(api, caller, service_engine):
    admin = caller("admin")
    model_id = (await api.post("/api/v1/ai-models", json=body(), headers=admin.headers)).json()["id"]
    await api.patch(f"/api/v1/ai-models/{model_id}", json={"enabled": False}, headers=admin.headers)

    deleted = await api.delete(f"/api/v1/ai-models/{model_id}", headers=admin.headers)

    assert deleted.status_code == 204
    events = await outbox(service_engine)
    assert [e["type"].split(".")[3] for e in events] == ["created", "updated", "deleted"]
    assert events[0]["sealed_api_key"].startswith("v1:")
    assert events[1]["sealed_api_key"].startswith("v1:")
    assert events[1]["enabled"] is False
    assert KEY not in repr(events)
    assert (await api.get(f"/api/v1/ai-models/{model_id}", headers=admin.headers)).status_code == 404


async def test_unknown_ids_are_404s(api, caller):
    admin = caller("admin")
    unknown = new_id()

    answers = [
        await api.get(f"/api/v1/ai-models/{unknown}", headers=admin.headers),
        await api.patch(f"/api/v1/ai-models/{unknown}", json={"enabled": False}, headers=admin.headers),
        await api.delete(f"/api/v1/ai-models/{unknown}", headers=admin.headers),
        await api.post(f"/api/v1/ai-models/{unknown}/test", headers=admin.headers),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]


async def test_the_check_of_an_offline_model_answers_ok_with_a_latency(api, caller):
    admin = caller("admin")
    model = {"name": "offline", "provider": "offline", "model": "offline"}
    model_id = (await api.post("/api/v1/ai-models", json=model, headers=admin.headers)).json()["id"]

    checked = await api.post(f"/api/v1/ai-models/{model_id}/test", headers=admin.headers)

    assert checked.status_code == 200
    assert checked.json()["ok"] is True
    assert checked.json()["latency_ms"] >= 0


async def test_the_check_of_an_unreachable_provider_is_a_200_with_its_error(api, caller):
    admin = caller("admin")
    # nothing listens on port 9 of loopback (discard): the connection is refused at once
    unreachable = body(name="nowhere", base_url="http://127.0.0.1:9/v1")
    model_id = (await api.post("/api/v1/ai-models", json=unreachable, headers=admin.headers)).json()["id"]

    checked = await api.post(f"/api/v1/ai-models/{model_id}/test", headers=admin.headers)

    assert checked.status_code == 200
    answer = checked.json()
    assert (answer["ok"], answer["error_kind"]) == (False, "unavailable")
    assert answer["error_message"]
    assert KEY not in checked.text


async def test_what_a_model_takes_beyond_text_is_kept_and_announced_for_chat(api, caller, service_engine):
    admin = caller("admin")
    senses = {"vision": True, "audio_input": False, "transcription_model": "whisper-1"}

    created = await api.post("/api/v1/ai-models", json=body(parameters=senses), headers=admin.headers)

    assert created.status_code == 201, created.text
    assert created.json()["parameters"] == senses
    (event,) = [e for e in await outbox(service_engine) if e["type"].endswith("ai_model.created.v1")]
    assert event["parameters"] == senses
    refused = await api.post(
        "/api/v1/ai-models",
        json=body(name="other", parameters={"vision": "yes", "transcription_model": "has space"}),
        headers=admin.headers,
    )
    assert refused.status_code == 400, refused.text
