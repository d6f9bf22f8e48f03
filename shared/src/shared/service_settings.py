"""The settings every service has, read from ``<SERVICE>_*`` variables with shared fallbacks.

A service declares its ``Settings`` as a subclass of :class:`ServiceSettings`
(or :class:`TokenVerifyingSettings`, when it verifies access tokens) and gives
it what is its own: the port, and any fields of its features. ``migrate`` loads
only :class:`CoreSettings`, so a migration job needs no NATS or JWT configuration.

Every field ``name`` of service ``chat`` is read from ``CHAT_NAME``, then from the
cluster-wide variables in :data:`FALLBACKS` (``DATABASE_URL``, ``NATS_URL``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, TypeVar

import msgspec

from shared.settings import load_settings

FALLBACKS = {
    "database_url": ["DATABASE_URL"],
    "nats_url": ["NATS_URL"],
    "log_level": ["LOG_LEVEL"],
    "jwks_url": ["AIORCH_JWKS_URL"],
    "jwt_issuer": ["AIORCH_JWT_ISSUER"],
    "jwt_audience": ["AIORCH_JWT_AUDIENCE"],
    "admin_email": ["AIORCH_ADMIN_EMAIL"],
    "admin_password": ["AIORCH_ADMIN_PASSWORD"],
    "trusted_proxies": ["AIORCH_TRUSTED_PROXIES"],
    "stream_replicas": ["AIORCH_STREAM_REPLICAS"],
    "tls_terminated": ["AIORCH_TLS_TERMINATED"],
    "metrics_token": ["AIORCH_METRICS_TOKEN"],
    "jwt_max_lifetime_s": ["AIORCH_JWT_MAX_LIFETIME_S"],
    "model_seal_key_file": ["AIORCH_MODEL_SEAL_KEY_FILE"],
}

Identifier = Annotated[str, msgspec.Meta(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
LogLevel = Annotated[str, msgspec.Meta(pattern=r"(?i)^(debug|info|warning|error|critical)$")]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
Fraction = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
# "*" or comma-separated IP addresses and networks (uvicorn's forwarded_allow_ips)
ProxyList = Annotated[str, msgspec.Meta(pattern=r"^(\*|[0-9A-Fa-f:./]+(\s*,\s*[0-9A-Fa-f:./]+)*)$")]


class CoreSettings(msgspec.Struct, kw_only=True, frozen=True):
    """What every command needs, ``migrate`` included."""

    database_url: str
    """PostgreSQL URL of the service's own role (``<SERVICE>_DATABASE_URL``, else ``DATABASE_URL``).
    Required."""

    db_schema: Identifier
    """The schema the service owns: its tables, its Alembic version table, its search_path.
    Defaults to the service's name."""

    log_level: LogLevel = "INFO"
    """DEBUG, INFO, WARNING, ERROR or CRITICAL (``<SERVICE>_LOG_LEVEL``, else ``LOG_LEVEL``)."""


class ServiceSettings(CoreSettings, kw_only=True, frozen=True):
    """What the API and the worker need besides."""

    nats_url: str
    """NATS server URL (``<SERVICE>_NATS_URL``, else ``NATS_URL``). Required: no default, because
    the machine's own NATS on the standard port is not this cluster's."""

    http_host: str = "127.0.0.1"
    """Address the API listens on."""

    http_port: Port
    """Port the API listens on; each service declares its own default."""

    http_workers: Positive = 1
    """Number of API worker processes."""

    shutdown_delay_s: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.0
    """Seconds a signalled API process stays up answering, unready (``/health/ready`` 503),
    before it stops accepting: time for a load balancer to stop sending it clients. 0 locally;
    a few seconds behind a Kubernetes Service."""

    shutdown_grace_s: Annotated[int, msgspec.Meta(ge=0, le=600)] = 20
    """Seconds a stopping process gives the work in flight (requests, a relay's batch, a
    consumer's message) before it cancels what is left. Keep it under the orchestrator's
    kill deadline (Kubernetes' ``terminationGracePeriodSeconds``) minus the delay above."""

    worker_metrics_port: Port | None = None
    """Port the event worker (relay and consumers; no HTTP API of its own) serves its Prometheus
    series on, at ``/metrics`` on ``http_host``; unset, it serves none."""

    trusted_proxies: ProxyList = "127.0.0.1,::1"
    """Proxies whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed: IP addresses and
    networks, comma-separated, or ``*`` for any. A request through one of them counts as coming
    from the client the proxy names (throttling, sessions, audit); set it to the ingress's
    addresses in a cluster, or every client looks like the ingress."""

    stream_replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    """Copies JetStream keeps of the service's stream and of the dead letters: 1 on a single
    server, 3 on a NATS cluster (a change is applied to existing streams at start)."""

    db_pool_size: Positive = 10
    """Connections kept open per process (as many again may overflow under load)."""

    access_log_sample: Fraction = 1.0
    """The fraction of requests the API writes an access line for: 1 every one, 0 none (a server
    error always gets its line). Lower it when a proxy in front keeps access logs already."""

    tls_terminated: bool = False
    """Clients reach the API over HTTPS through a proxy that terminates TLS (``<SERVICE>_TLS_TERMINATED``,
    else ``AIORCH_TLS_TERMINATED``): answers then carry ``Strict-Transport-Security``."""

    metrics_token: Annotated[str, msgspec.Meta(min_length=16)] | None = None
    """The bearer token a ``/metrics`` scrape must send (``<SERVICE>_METRICS_TOKEN``, else
    ``AIORCH_METRICS_TOKEN``); at least 16 characters. Unset, ``/metrics`` is off (a 404)."""


class TokenVerifyingSettings(ServiceSettings, kw_only=True, frozen=True):
    """A service that verifies identity's access tokens locally, against its public keys."""

    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    """identity's public signing keys (``AIORCH_JWKS_URL``), fetched and cached to verify tokens."""

    jwt_issuer: str = "http://127.0.0.1:8001"
    """The ``iss`` an access token must carry (``AIORCH_JWT_ISSUER``)."""

    jwt_audience: str = "aiorch"
    """The ``aud`` an access token must carry (``AIORCH_JWT_AUDIENCE``)."""

    jwt_max_lifetime_s: Annotated[int, msgspec.Meta(ge=60, le=3600)] = 900
    """The longest an access token may be issued to live (``exp - iat``, seconds;
    ``AIORCH_JWT_MAX_LIFETIME_S``): a token signed to live longer is refused, whoever signed it.
    At least identity's ``IDENTITY_ACCESS_TOKEN_TTL_S``."""


S = TypeVar("S", bound=CoreSettings)


def env_prefix(service: str) -> str:
    """``chat`` → ``CHAT_``."""
    return f"{service.upper()}_"


def load_service_settings(cls: type[S], service: str, environ: Mapping[str, str] | None = None) -> S:
    """``cls`` from the environment; raises ``shared.settings.SettingsError`` naming the variable at fault."""
    return load_settings(
        cls, prefix=env_prefix(service), environ=environ, fallbacks=FALLBACKS, defaults={"db_schema": service}
    )
