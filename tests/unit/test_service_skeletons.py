"""What every service does the same way, checked for each: its settings and its command line."""

import importlib

import pytest

from shared.settings import SettingsError

pytestmark = pytest.mark.parametrize("service_root", ["identity", "chat", "orchestrator"], indirect=True)

MINIMAL = {"DATABASE_URL": "postgresql://svc:pw@db/aiorch", "NATS_URL": "nats://bus:4222"}


@pytest.fixture
def prefix(service_root) -> str:
    return f"{service_root.service.upper()}_"


@pytest.fixture
def main(service_root):
    return importlib.import_module(f"{service_root.service}.entrypoints.cli").main


# -- settings ------------------------------------------------------------------------------


def test_the_service_prefix_wins_over_the_shared_fallback(service_root, prefix):
    settings = service_root.load_settings(
        {**MINIMAL, f"{prefix}DATABASE_URL": "postgresql://own/db", "LOG_LEVEL": "debug"}
    )

    assert settings.database_url == "postgresql://own/db"
    assert settings.log_level == "debug"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NATS_URL": "nats://bus"}, "{prefix}DATABASE_URL or DATABASE_URL is required"),
        ({"DATABASE_URL": "postgresql://db"}, "{prefix}NATS_URL or NATS_URL is required"),
        ({**MINIMAL, "{prefix}HTTP_PORT": "http"}, "{prefix}HTTP_PORT is invalid"),
        ({**MINIMAL, "{prefix}DB_SCHEMA": "svc; drop"}, "{prefix}DB_SCHEMA is invalid"),
        ({**MINIMAL, "LOG_LEVEL": "loud"}, "LOG_LEVEL is invalid"),
    ],
)
def test_a_missing_or_invalid_setting_names_its_variable(service_root, prefix, environ, message):
    environ = {name.format(prefix=prefix): value for name, value in environ.items()}

    with pytest.raises(SettingsError, match=message.format(prefix=prefix)):
        service_root.load_settings(environ)


def test_migrations_need_only_the_database_and_use_the_services_schema(service_root):
    settings = service_root.load_core_settings({"DATABASE_URL": "postgresql://db"})

    assert settings.db_schema == service_root.service


# -- command line ----------------------------------------------------------------------------


@pytest.fixture
def bare_environment(monkeypatch, prefix):
    for name in (f"{prefix}DATABASE_URL", "DATABASE_URL", f"{prefix}NATS_URL", "NATS_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("bare_environment")
@pytest.mark.parametrize("argv", [["migrate"], ["api"], ["worker"], ["dead-letters", "list"]])
def test_a_command_without_its_database_setting_exits_2_naming_the_variable(main, prefix, argv, capsys):
    assert main(argv) == 2
    assert f"{prefix}DATABASE_URL or DATABASE_URL is required but not set" in capsys.readouterr().err


@pytest.mark.usefixtures("bare_environment")
def test_the_worker_without_nats_exits_2_naming_the_variable(main, prefix, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db")

    assert main(["worker"]) == 2
    assert f"{prefix}NATS_URL or NATS_URL is required" in capsys.readouterr().err


def test_replay_needs_a_sequence_or_all(main):
    with pytest.raises(SystemExit) as exit_:
        main(["dead-letters", "replay"])
    assert exit_.value.code == 2
