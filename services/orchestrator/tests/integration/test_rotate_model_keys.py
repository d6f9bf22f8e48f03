"""``aiorch-orchestrator rotate-model-keys``: a new current key, every stored API key re-encrypted
under it in one transaction, and the running API still reads them all."""

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa

from orchestrator.entrypoints.cli import main


def model(name: str, key: str | None) -> dict:
    body = {"name": name, "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}
    return body | ({"api_key": key} if key else {})


async def stored_keys(service_engine) -> dict[str, tuple[str | None, bytes | None]]:
    async with service_engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT name, api_key_key_id, api_key_ciphertext FROM ai_models"))
        return {r.name: (r.api_key_key_id, r.api_key_ciphertext) for r in rows}


def cli_environment(monkeypatch, api_settings) -> None:
    monkeypatch.setenv("ORCHESTRATOR_DATABASE_URL", api_settings.database_url)
    monkeypatch.setenv("ORCHESTRATOR_DB_SCHEMA", api_settings.db_schema)
    monkeypatch.setenv("ORCHESTRATOR_NATS_URL", api_settings.nats_url)
    monkeypatch.setenv("ORCHESTRATOR_MODEL_KEYS_FILE", api_settings.model_keys_file)
    monkeypatch.setenv("ORCHESTRATOR_MODEL_SEAL_KEY_FILE", api_settings.model_seal_key_file)


async def test_rotation_re_encrypts_every_stored_key_under_the_new_one(
    api, caller, api_settings, service_engine, monkeypatch, capsys
):
    admin = caller("admin")
    for name, key in (("a", "sk-first-0123456789abcd"), ("b", "sk-second-0123456789abcd"), ("c", None)):
        assert (
            await api.post("/api/v1/ai-models", json=model(name, key), headers=admin.headers)
        ).status_code == 201
    before = await stored_keys(service_engine)
    cli_environment(monkeypatch, api_settings)

    code = await asyncio.to_thread(main, ["rotate-model-keys"])

    assert code == 0
    ring = json.loads(Path(api_settings.model_keys_file).read_text())
    after = await stored_keys(service_engine)
    assert {after["a"][0], after["b"][0]} == {ring["current"]}
    assert after["a"][1] != before["a"][1]
    assert after["c"] == (None, None)
    assert len(ring["keys"]) == 2  # the old key stays, to read what it encrypted
    printed = capsys.readouterr().out
    assert f"new model key {ring['current']}" in printed
    assert "re-encrypted 2 API key(s)" in printed
    # the running API reads the re-encrypted keys (it re-reads the key file for a new key id)
    models = (await api.get("/api/v1/ai-models", headers=admin.headers)).json()["items"]
    checked = await api.post(f"/api/v1/ai-models/{models[0]['id']}/test", headers=admin.headers)
    assert checked.json()["error_kind"] == "unavailable"


async def test_a_key_that_cannot_be_decrypted_stops_the_rotation_with_nothing_changed(
    api, caller, api_settings, service_engine, monkeypatch, capsys
):
    admin = caller("admin")
    await api.post("/api/v1/ai-models", json=model("a", "sk-first-0123456789abcd"), headers=admin.headers)
    await api.post("/api/v1/ai-models", json=model("b", "sk-second-0123456789abcd"), headers=admin.headers)
    async with service_engine.begin() as conn:  # b's value copied onto a: bound to b's id, it fails for a
        await conn.execute(
            sa.text(
                "UPDATE ai_models SET api_key_ciphertext ="
                " (SELECT api_key_ciphertext FROM ai_models WHERE name = 'b') WHERE name = 'a'"
            )
        )
    before = await stored_keys(service_engine)
    cli_environment(monkeypatch, api_settings)

    code = await asyncio.to_thread(main, ["rotate-model-keys"])

    assert code == 1
    assert "model a (" in capsys.readouterr().err
    assert await stored_keys(service_engine) == before
