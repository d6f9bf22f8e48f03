"""identity's settings: defaults, the cluster-wide fallbacks, validation, and secrets kept out of repr."""

import json

import pytest

from identity import SERVICE
from identity.settings import Settings
from shared.service_settings import TokenVerifyingSettings, load_service_settings
from shared.settings import SettingsError

MINIMAL = {"DATABASE_URL": "postgresql://identity:pw@db/aiorch", "NATS_URL": "nats://bus:4222"}


def load(**environ: str) -> Settings:
    return load_service_settings(Settings, SERVICE, {**MINIMAL, **environ})


def test_identity_listens_on_8001_in_its_own_schema():
    settings = load()

    assert (settings.http_host, settings.http_port, settings.db_schema) == ("127.0.0.1", 8001, "identity")


def test_identity_issues_tokens_and_so_fetches_no_key_set():
    assert not issubclass(Settings, TokenVerifyingSettings)
    assert "jwks_url" not in Settings.__struct_fields__


def test_the_defaults_are_the_documented_ones():
    settings = load()

    assert (settings.jwt_issuer, settings.jwt_audience, settings.access_token_ttl_s) == (
        "http://127.0.0.1:8001",
        "aiorch",
        900,
    )
    assert (settings.refresh_absolute_ttl_s, settings.refresh_idle_ttl_s) == (30 * 86400, 7 * 86400)
    assert (settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism) == (
        19456,
        2,
        1,
    )
    assert (settings.login_max_failures_per_account, settings.login_window_s) == (10, 900)
    assert (settings.keys_dir, settings.mail_dir, settings.mail_backend) == (
        ".cluster/identity-keys",
        ".cluster/mail",
        "file",
    )
    assert settings.external_url == "http://127.0.0.1:8001"


def test_issuer_audience_and_first_admin_fall_back_to_the_cluster_wide_variables():
    settings = load(
        AIORCH_JWT_ISSUER="http://id:9001",
        AIORCH_JWT_AUDIENCE="aud",
        AIORCH_ADMIN_EMAIL="root@example.org",
        AIORCH_ADMIN_PASSWORD="a long admin password",
    )

    assert (settings.jwt_issuer, settings.jwt_audience, settings.admin_email) == (
        "http://id:9001",
        "aud",
        "root@example.org",
    )
    assert load(AIORCH_JWT_ISSUER="http://a", IDENTITY_JWT_ISSUER="http://b").jwt_issuer == "http://b"


def test_the_public_url_defaults_to_the_issuer():
    assert load(IDENTITY_JWT_ISSUER="https://id.example/").external_url == "https://id.example"
    assert load(IDENTITY_PUBLIC_URL="https://login.example").external_url == "https://login.example"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"IDENTITY_OIDC_PROVIDERS": "[1]"}, "IDENTITY_OIDC_PROVIDERS"),
        ({"IDENTITY_OIDC_PROVIDERS": '{"g": {"issuer": "http://evil.example"}}'}, "IDENTITY_OIDC_PROVIDERS"),
        ({"IDENTITY_MAIL_BACKEND": "smtp"}, "IDENTITY_SMTP_HOST is required"),
        ({"IDENTITY_MAIL_BACKEND": "pigeon"}, "IDENTITY_MAIL_BACKEND is invalid"),
        ({"IDENTITY_ACCESS_TOKEN_TTL_S": "5"}, "IDENTITY_ACCESS_TOKEN_TTL_S is invalid"),
        ({"AIORCH_ADMIN_EMAIL": "root@example.org"}, "go together"),
    ],
)
def test_invalid_settings_are_refused_at_start_naming_the_variable(environ, message):
    with pytest.raises(SettingsError, match=message):
        load(**environ)


def test_no_secret_appears_in_the_repr():
    secrets = {
        "DATABASE_URL": "postgresql://identity:db-secret@db/aiorch",
        "IDENTITY_SMTP_PASSWORD": "smtp-secret",
        "IDENTITY_SIGNING_KEY_PEM": "pem-secret",
        "IDENTITY_PREVIOUS_SIGNING_KEYS_PEM": "old-pem-secret",
        "AIORCH_ADMIN_EMAIL": "root@example.org",
        "AIORCH_ADMIN_PASSWORD": "admin-secret",
        "IDENTITY_OIDC_PROVIDERS": json.dumps(
            {"g": {"issuer": "https://g.example", "client_id": "c", "client_secret": "oidc-secret"}}
        ),
    }
    settings = load_service_settings(Settings, SERVICE, {**MINIMAL, **secrets})

    shown = repr(settings) + str(settings)
    assert "secret" not in shown
    assert "root@example.org" in shown  # what is not secret stays visible
