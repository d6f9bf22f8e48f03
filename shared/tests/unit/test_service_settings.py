"""The settings every service has: ``<SERVICE>_*`` variables, shared fallbacks, defaults."""

import pytest

from shared.service_settings import (
    FALLBACKS,
    CoreSettings,
    Port,
    ServiceSettings,
    TokenVerifyingSettings,
    load_service_settings,
)
from shared.settings import SettingsError


class DemoSettings(TokenVerifyingSettings, kw_only=True, frozen=True):
    http_port: Port = 8100
    # identity's first-admin fields, which FALLBACKS also serves
    admin_email: str = ""
    admin_password: str = ""
    # the seal key of the services that call AI models (orchestrator, chat)
    model_seal_key_file: str = ""


class PortlessSettings(ServiceSettings, kw_only=True, frozen=True):
    pass


MINIMAL = {"DATABASE_URL": "postgresql://demo:pw@db/aiorch", "NATS_URL": "nats://bus:4222"}


def test_defaults_fill_everything_but_the_database_and_nats():
    settings = load_service_settings(DemoSettings, "demo", MINIMAL)

    assert (settings.http_host, settings.http_port, settings.http_workers) == ("127.0.0.1", 8100, 1)
    assert (settings.db_schema, settings.db_pool_size, settings.log_level) == ("demo", 10, "INFO")
    assert settings.jwks_url == "http://127.0.0.1:8001/.well-known/jwks.json"
    assert (settings.jwt_issuer, settings.jwt_audience) == ("http://127.0.0.1:8001", "aiorch")


@pytest.mark.parametrize(("field", "variable"), [(f, v[0]) for f, v in FALLBACKS.items()])
def test_every_field_with_a_fallback_reads_the_cluster_wide_variable(field, variable):
    # a valid value of each field, as text in the environment and as read
    text, read = {
        "log_level": ("debug", "debug"),
        "trusted_proxies": ("10.0.0.0/8", "10.0.0.0/8"),
        "stream_replicas": ("3", 3),
        "tls_terminated": ("true", True),
        "jwt_max_lifetime_s": ("1800", 1800),
    }.get(field, (f"from-{variable}", f"from-{variable}"))

    settings = load_service_settings(DemoSettings, "demo", {**MINIMAL, variable: text})

    assert getattr(settings, field) == read


def test_the_service_prefix_wins_over_the_shared_fallback():
    own = {"DEMO_DATABASE_URL": "postgresql://own/db", "DEMO_LOG_LEVEL": "error", "LOG_LEVEL": "debug"}

    settings = load_service_settings(DemoSettings, "demo", {**MINIMAL, **own})

    assert (settings.database_url, settings.log_level) == ("postgresql://own/db", "error")


def test_the_schema_is_named_after_the_service_unless_set():
    assert load_service_settings(CoreSettings, "demo", MINIMAL).db_schema == "demo"
    assert (
        load_service_settings(CoreSettings, "demo", {**MINIMAL, "DEMO_DB_SCHEMA": "other"}).db_schema
        == "other"
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NATS_URL": "nats://bus"}, "DEMO_DATABASE_URL or DATABASE_URL is required"),
        ({"DATABASE_URL": "postgresql://db"}, "DEMO_NATS_URL or NATS_URL is required"),
        ({**MINIMAL, "DEMO_HTTP_PORT": "http"}, "DEMO_HTTP_PORT is invalid"),
        ({**MINIMAL, "DEMO_HTTP_PORT": "70000"}, "DEMO_HTTP_PORT is invalid"),
        ({**MINIMAL, "DEMO_HTTP_WORKERS": "0"}, "DEMO_HTTP_WORKERS is invalid"),
        ({**MINIMAL, "DEMO_DB_SCHEMA": "demo; drop"}, "DEMO_DB_SCHEMA is invalid"),
        ({**MINIMAL, "LOG_LEVEL": "loud"}, "LOG_LEVEL is invalid"),
    ],
)
def test_a_missing_or_invalid_setting_names_its_variable(environ, message):
    with pytest.raises(SettingsError, match=message):
        load_service_settings(DemoSettings, "demo", environ)


def test_a_service_must_give_its_port_a_default():
    with pytest.raises(SettingsError, match="DEMO_HTTP_PORT is required"):
        load_service_settings(PortlessSettings, "demo", MINIMAL)


def test_migrations_need_only_the_database():
    settings = load_service_settings(CoreSettings, "demo", {"DATABASE_URL": "postgresql://db"})

    assert (settings.database_url, settings.db_schema) == ("postgresql://db", "demo")


@pytest.mark.parametrize("proxies", ["*", "127.0.0.1", "10.0.0.0/8, 192.168.1.7,::1", "fd00::/8"])
def test_trusted_proxies_take_addresses_networks_or_a_star(proxies):
    settings = load_service_settings(DemoSettings, "demo", {**MINIMAL, "DEMO_TRUSTED_PROXIES": proxies})

    assert settings.trusted_proxies == proxies


@pytest.mark.parametrize("proxies", ["ingress.local", "10.0.0.0/8;*", "*,10.0.0.1"])
def test_trusted_proxies_that_are_not_addresses_stop_the_start_naming_the_variable(proxies):
    with pytest.raises(SettingsError, match="DEMO_TRUSTED_PROXIES"):
        load_service_settings(DemoSettings, "demo", {**MINIMAL, "DEMO_TRUSTED_PROXIES": proxies})


@pytest.mark.parametrize("replicas", ["0", "6", "three"])
def test_stream_replicas_outside_one_to_five_stop_the_start_naming_the_variable(replicas):
    with pytest.raises(SettingsError, match="AIORCH_STREAM_REPLICAS"):
        load_service_settings(DemoSettings, "demo", {**MINIMAL, "AIORCH_STREAM_REPLICAS": replicas})
