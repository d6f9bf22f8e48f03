"""What every service does the same way, checked for each against the real servers: migrations,
the HTTP app end to end, and the command line."""

import asyncio
import importlib

import pytest
from alembic.script import ScriptDirectory
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from aiorch_devkit.devservers import free_port
from aiorch_devkit.testing.databases import create_service_database, drop_service_database
from aiorch_devkit.testing.service_fixtures import service_environ, settings_for
from shared.db.migrations import current_revision, downgrade, upgrade
from shared.messaging.deadletter import H_CONSUMER, H_REASON, H_SUBJECT, dead_letter_subject
from shared.messaging.streams import DEAD_LETTER, context_stream, ensure_stream
from shared.service_settings import CoreSettings

pytestmark = pytest.mark.parametrize("service_root", ["identity", "chat", "orchestrator"], indirect=True)


# -- migrations --------------------------------------------------------------------------------


async def test_every_revision_upgrades_downgrades_and_upgrades_again(service_root, servers):
    database = await create_service_database(servers.postgres_url, f"{service_root.service}_stairway")
    config = service_root.alembic_config(CoreSettings(database_url=database.url, db_schema=database.name))
    revisions = [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()]
    try:
        for revision in reversed(revisions):
            await upgrade(config, revision)
            await downgrade(config, "-1")
            await upgrade(config, revision)
            assert await current_revision(config) == revision
        await downgrade(config, "base")
        assert await current_revision(config) is None
    finally:
        await drop_service_database(database)


async def test_the_session_schema_is_at_head(service_root, service_database):
    settings = CoreSettings(database_url=service_database.url, db_schema=service_database.name)
    config = service_root.alembic_config(settings)

    assert await current_revision(config) == ScriptDirectory.from_config(config).get_current_head()


# -- the HTTP app ------------------------------------------------------------------------------


async def test_the_process_is_live(service_client):
    response = await service_client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_it_is_ready_when_the_database_and_nats_answer(service_root, service_client):
    response = await service_client.get("/health/ready")

    assert response.status_code == 200
    # A service that verifies identity's tokens is ready once it has read identity's revocations.
    verifies_tokens = service_root.service != "identity"
    expected = {"shutdown": "ok", "database": "ok", "nats": "ok"}
    expected |= {"revocations": "ok"} if verifies_tokens else {}
    assert response.json()["checks"] == expected


async def test_it_serves_its_openapi_document(service_root, service_client):
    response = await service_client.get("/schema/openapi.json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == f"aiorch {service_root.service}"


async def test_it_exposes_prometheus_metrics_to_a_scrape_with_the_metrics_token_only(
    service_root, service_database, servers, nats_client
):
    token = "metrics-scrape-token-0123"
    settings = settings_for(service_root, service_database, servers.nats_url, metrics_token=token)
    async with AsyncTestClient(app=service_root.create_app(settings)) as client:
        await client.get("/health/live")
        response = await client.get("/metrics", headers={"authorization": f"Bearer {token}"})
        anonymous = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert anonymous.status_code == 401


async def test_metrics_are_off_without_a_metrics_token(service_client):
    response = await service_client.get("/metrics")

    assert response.status_code == 404


async def test_an_unknown_route_is_a_404_problem_with_the_request_id(service_client):
    response = await service_client.get("/api/v1/nothing-here", headers={"X-Request-ID": "req-42"})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-request-id"] == "req-42"
    assert response.json()["request_id"] == "req-42"
    assert response.json()["status"] == 404


async def test_start_up_creates_the_services_and_the_dead_letter_streams(
    service_root, service_client, nats_client
):
    names = {info.config.name for info in await nats_client.jetstream().streams_info()}

    assert {service_root.service.upper(), "DEADLETTER"} <= names


async def test_it_is_not_ready_when_the_database_is_unreachable(service_root, service_database, servers):
    dead = make_url(service_database.url).set(port=free_port()).render_as_string(hide_password=False)
    settings = settings_for(service_root, service_database, servers.nats_url, database_url=dead)

    async with AsyncTestClient(app=service_root.create_app(settings)) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith("database: ")
    assert "nats" not in response.json()["detail"]


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def main(service_root):
    return importlib.import_module(f"{service_root.service}.entrypoints.cli").main


async def test_migrate_brings_a_fresh_schema_to_head(service_root, main, servers, monkeypatch):
    database = await create_service_database(servers.postgres_url, f"{service_root.service}_cli")
    for name, value in service_environ(service_root, database, servers.nats_url, log_level="WARNING").items():
        monkeypatch.setenv(name, value)
    config = service_root.alembic_config(CoreSettings(database_url=database.url, db_schema=database.name))
    try:
        # the command runs its own event loop, as it does from a shell
        assert await asyncio.to_thread(main, ["migrate"]) == 0
        assert await asyncio.to_thread(main, ["migrate"]) == 0  # and again: nothing to do

        assert await current_revision(config) == ScriptDirectory.from_config(config).get_current_head()
    finally:
        await drop_service_database(database)


@pytest.fixture
async def letters(service_root, service_environment, nats_client) -> dict[str, str]:
    """One dead letter of a consumer of this service's, one of another service's."""
    js = nats_client.jetstream()
    await ensure_stream(js, context_stream("identity"))
    await ensure_stream(js, DEAD_LETTER)
    other = "orchestrator" if service_root.service == "chat" else "chat"
    consumers = {"own": f"{service_root.service}.test-consumer", "other": f"{other}.user-erasure"}
    for consumer in consumers.values():
        headers = {
            H_CONSUMER: consumer,
            H_REASON: f"malformed: {consumer}",
            H_SUBJECT: "identity.user.deleted",
        }
        await js.publish(dead_letter_subject(consumer), b"{}", headers=headers)
    return consumers


async def test_listing_dead_letters_before_any_service_started_finds_none_and_creates_nothing(
    main, service_environment, nats_client, capsys
):
    assert await asyncio.to_thread(main, ["dead-letters", "list"]) == 0

    assert capsys.readouterr().out.strip() == "no dead letters"
    assert await nats_client.jetstream().streams_info() == []


async def test_dead_letters_of_its_own_consumers_are_listed_and_no_others(main, letters, capsys):
    assert await asyncio.to_thread(main, ["dead-letters", "list"]) == 0

    listing = capsys.readouterr().out
    assert f"malformed: {letters['own']}" in listing
    assert letters["other"] not in listing


async def test_a_named_consumer_sets_the_scope(main, letters, capsys):
    assert await asyncio.to_thread(main, ["dead-letters", "list", "--consumer", letters["other"]]) == 0
    listing = capsys.readouterr().out
    assert f"malformed: {letters['other']}" in listing
    assert letters["own"] not in listing

    assert await asyncio.to_thread(main, ["dead-letters", "list", "--consumer", "nobody.at-all"]) == 0
    assert capsys.readouterr().out.strip() == "no dead letters"


async def test_replay_takes_only_letters_in_scope(main, letters, nats_client):
    js = nats_client.jetstream()

    assert await asyncio.to_thread(main, ["dead-letters", "replay", "--seq", "2"]) == 1  # the other's
    assert await asyncio.to_thread(main, ["dead-letters", "replay", "--all"]) == 0

    assert (await js.stream_info(DEAD_LETTER.name)).state.messages == 1  # the other's is kept
    assert (await js.stream_info("IDENTITY")).state.messages == 1  # the replay of this service's
