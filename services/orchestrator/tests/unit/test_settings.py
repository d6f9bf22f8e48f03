from orchestrator import SERVICE
from orchestrator.settings import Settings
from shared.service_settings import load_service_settings

MINIMAL = {"DATABASE_URL": "postgresql://orchestrator:pw@db/aiorch", "NATS_URL": "nats://bus:4222"}


def test_orchestrator_listens_on_8003_in_its_own_schema():
    settings = load_service_settings(Settings, SERVICE, MINIMAL)

    assert (settings.http_host, settings.http_port, settings.db_schema) == ("127.0.0.1", 8003, "orchestrator")


def test_orchestrator_verifies_tokens_against_identity_unless_told_otherwise():
    settings = load_service_settings(Settings, SERVICE, MINIMAL)
    told = load_service_settings(Settings, SERVICE, {**MINIMAL, "AIORCH_JWT_AUDIENCE": "x"})

    assert settings.jwks_url == "http://127.0.0.1:8001/.well-known/jwks.json"
    assert (settings.jwt_issuer, settings.jwt_audience) == ("http://127.0.0.1:8001", "aiorch")
    assert told.jwt_audience == "x"
