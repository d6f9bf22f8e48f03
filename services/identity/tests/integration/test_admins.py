"""The first admin: from the cluster's settings at start, or ``aiorch-identity create-admin``."""

import asyncio
import io

import pytest
from services.identity.tests.integration.conftest import FAST_HASHING

from identity.entrypoints.cli import main

ADMIN_PASSWORD = "an admin passphrase for tests"


@pytest.fixture
def cli_environment(service_environment, service_engine, monkeypatch, tmp_path):
    # The command configures process-wide logging (cached loggers), which would stop later
    # tests from capturing log lines; here it is not what is under test.
    monkeypatch.setattr("identity.entrypoints.cli.configure_logging", lambda *_: None)
    monkeypatch.setenv("IDENTITY_KEYS_DIR", str(tmp_path / "keys"))
    for name, value in FAST_HASHING.items():
        monkeypatch.setenv(f"IDENTITY_{name.upper()}", value)
    return service_environment


def run_with_stdin(monkeypatch, text: str, argv: list[str]) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    return main(argv)


async def test_the_first_admin_is_created_at_start_and_only_once(app_with, api):
    settings = {"admin_email": "root@example.org", "admin_password": ADMIN_PASSWORD}
    for _ in range(2):
        async with app_with(**settings) as client:
            login = await client.post(
                "/api/v1/auth/login", json={"email": "root@example.org", "password": ADMIN_PASSWORD}
            )
            assert login.status_code == 200

    assert await api.sql("SELECT email, role FROM users") == [("root@example.org", "admin")]
    assert await api.outbox() == ["aiorch.identity.user.registered.v1"]


async def test_create_admin_makes_an_admin_account_from_a_password_on_stdin(
    cli_environment, monkeypatch, capsys, api
):
    argv = ["create-admin", "--email", "root@example.org", "--name", "Root", "--password-stdin"]

    code = await asyncio.to_thread(run_with_stdin, monkeypatch, ADMIN_PASSWORD + "\n", argv)

    assert code == 0
    assert "created admin root@example.org" in capsys.readouterr().out
    assert await api.sql("SELECT email, name, role FROM users") == [("root@example.org", "Root", "admin")]
    await api.login("root@example.org", ADMIN_PASSWORD)


async def test_create_admin_promotes_an_existing_account_and_keeps_its_password(
    cli_environment, monkeypatch, capsys, api
):
    await api.register("ada@example.org")

    argv = ["create-admin", "--email", "ADA@example.org", "--password-stdin"]
    code = await asyncio.to_thread(run_with_stdin, monkeypatch, "ignored for an existing account\n", argv)

    assert code == 0
    assert "made admin: existing account ada@example.org" in capsys.readouterr().out
    assert await api.sql("SELECT role FROM users") == [("admin",)]
    assert await api.outbox() == ["aiorch.identity.user.registered.v1", "aiorch.identity.user.updated.v1"]
    await api.login("ada@example.org")


async def test_create_admin_refuses_a_weak_password_or_a_bad_address(
    cli_environment, monkeypatch, capsys, api
):
    weak = ["create-admin", "--email", "root@example.org", "--password-stdin"]
    bad = ["create-admin", "--email", "root", "--password-stdin"]

    assert await asyncio.to_thread(run_with_stdin, monkeypatch, "password\n", weak) == 1
    assert "too common" in capsys.readouterr().err
    assert await asyncio.to_thread(run_with_stdin, monkeypatch, ADMIN_PASSWORD + "\n", bad) == 1
    assert "not valid" in capsys.readouterr().err
    assert await api.sql("SELECT count(*) FROM users") == [(0,)]
