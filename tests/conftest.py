"""Tests parametrised over services: ``@pytest.mark.parametrize("service_root", [...], indirect=True)``."""

import importlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from uuid import uuid4

import pytest

from aiorch_devkit.devservers import free_port
from aiorch_devkit.testing.service_fixtures import settings_for
from identity.adapters.crypto.jwt_tokens import JwtAccessTokenIssuer
from identity.adapters.crypto.signing_keys import FileSigningKeys


@pytest.fixture(scope="session")
def service_root(request):
    """The composition root (``<service>.bootstrap.ROOT``) of the service named by the parameter."""
    return importlib.import_module(f"{request.param}.bootstrap").ROOT


@pytest.fixture(autouse=True)
def _private_working_directory(request, tmp_path, monkeypatch):
    """Integration tests run in a directory of their own, so a service's relative default
    paths (identity's ``.cluster/identity-keys`` and ``.cluster/mail``) never land in the
    repository. (A conftest in ``tests/integration`` would clash by module name with
    ``shared/tests/integration``'s under ``--import-mode=importlib``.)"""
    if "integration" in request.node.path.parts:
        monkeypatch.chdir(tmp_path)


# -- identity's signing keys, for chat and orchestrator tests (tests/integration) -----------------

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"


class JwksServer:
    """identity's ``/.well-known/jwks.json``, served from a key store on loopback."""

    def __init__(self, keys: FileSigningKeys) -> None:
        self.keys = keys
        self.port = free_port()
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps(outer.keys.jwks()).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"


@pytest.fixture
def jwks(tmp_path: Path) -> Iterator[JwksServer]:
    server = JwksServer(FileSigningKeys(tmp_path / "keys"))
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()


def settings_verifying_tokens(service_root, service_database, servers, jwks):
    """The service's settings, verifying access tokens against the ``jwks`` server's key set."""
    return settings_for(
        service_root,
        service_database,
        servers.nats_url,
        jwks_url=jwks.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )


@pytest.fixture
def verifying_settings(service_root, service_database, servers, jwks):
    return settings_verifying_tokens(service_root, service_database, servers, jwks)


def token(keys, *, now=None, role="user", issuer=ISSUER, audience=AUDIENCE):
    issuer_ = JwtAccessTokenIssuer(keys, issuer=issuer, audience=audience)
    user_id, session_id = uuid4(), uuid4()
    issued = issuer_.issue(user_id=user_id, role=role, session_id=session_id, now=now or datetime.now(UTC))
    return issued.token, user_id, session_id
