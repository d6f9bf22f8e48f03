"""identity's settings, from ``IDENTITY_*`` environment variables.

The fields every service has, with their shared fallbacks (``DATABASE_URL``...), are in
``shared.service_settings``; ``jwt_issuer`` and ``jwt_audience`` fall back to the
cluster-wide ``AIORCH_JWT_ISSUER`` and ``AIORCH_JWT_AUDIENCE`` that chat and orchestrator
verify against, and ``admin_email``/``admin_password`` to ``AIORCH_ADMIN_*``.

Secrets (the database URL's password, keys, SMTP and OIDC credentials, the first admin's
password) never show in ``repr``: a settings object in a log line or a traceback prints
``'***'`` in their place.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec

from identity.application.oidc import providers_from_json
from shared.service_settings import Port, Positive, ServiceSettings

Seconds = Annotated[int, msgspec.Meta(ge=1)]
SECRET_FIELDS: Final = frozenset(
    {
        "database_url",
        "signing_key_pem",
        "previous_signing_keys_pem",
        "smtp_password",
        "oidc_providers",
        "admin_password",
    }
)


DEFAULT_KEYS_DIR: Final = ".cluster/identity-keys"
DEFAULT_OVERLAP_S: Final = 3600
DEFAULT_PUBLISH_AHEAD_S: Final = 360  # the verifiers' 5-minute key cache, and a margin


class KeyRingSettings(msgspec.Struct, kw_only=True, frozen=True):
    """What ``aiorch-identity rotate-keys`` reads: the key ring alone, no database or broker."""

    keys_dir: str = DEFAULT_KEYS_DIR
    signing_key_pem: str = ""
    key_rotation_overlap_s: Seconds = DEFAULT_OVERLAP_S
    key_publish_ahead_s: Annotated[int, msgspec.Meta(ge=0)] = DEFAULT_PUBLISH_AHEAD_S

    def __repr__(self) -> str:
        overlap, ahead = self.key_rotation_overlap_s, self.key_publish_ahead_s
        return (
            f"KeyRingSettings(keys_dir={self.keys_dir!r}, key_rotation_overlap_s={overlap}, "
            f"key_publish_ahead_s={ahead})"
        )


class Settings(ServiceSettings, kw_only=True, frozen=True):
    http_port: Port = 8001
    """Port identity's API listens on (``IDENTITY_HTTP_PORT``)."""
    db_read_pool_size: Positive = 32
    """Connections per API process of the raw asyncpg pool that serves the session check of
    every authenticated request (``IDENTITY_DB_READ_POOL_SIZE``): at least the number of
    requests one process serves at once, or requests queue for a connection. Opened as load
    grows, closed after 5 idle minutes. Writes use the SQLAlchemy pool (``db_pool_size``)."""

    # -- tokens --------------------------------------------------------------------------------

    jwt_issuer: str = "http://127.0.0.1:8001"
    """The ``iss`` of the access tokens (else ``AIORCH_JWT_ISSUER``); chat and orchestrator
    must expect the same."""
    jwt_audience: str = "aiorch"
    """The ``aud`` of the access tokens (else ``AIORCH_JWT_AUDIENCE``)."""
    access_token_ttl_s: Annotated[int, msgspec.Meta(ge=60, le=3600)] = 900
    """Lifetime of an access token."""
    refresh_absolute_ttl_s: Seconds = 30 * 24 * 3600
    """A session ends this long after its login, however active."""
    refresh_idle_ttl_s: Seconds = 7 * 24 * 3600
    """A session not refreshed for this long ends."""
    max_sessions_per_user: Positive = 100
    """Live sessions (logins) one user may have; a new login beyond it ends the least recently
    used one, so a script logging in again and again cannot pile sessions up."""

    # -- signing keys --------------------------------------------------------------------------

    keys_dir: str = DEFAULT_KEYS_DIR
    """Where the key ring lives (generated on first start), relative to the working directory
    unless absolute. Set it explicitly in production; ignored when ``signing_key_pem`` is set."""
    signing_key_pem: str = ""
    """An Ed25519 private key (PKCS#8 PEM) that signs, instead of the key ring in ``keys_dir``."""
    previous_signing_keys_pem: str = ""
    """PEM keys still published for verification after rotating ``signing_key_pem``."""
    key_rotation_overlap_s: Seconds = DEFAULT_OVERLAP_S
    """How long ``rotate-keys`` keeps the previous key published: at least an access token's
    lifetime plus the verifiers' key cache (5 minutes)."""
    key_publish_ahead_s: Annotated[int, msgspec.Meta(ge=0)] = DEFAULT_PUBLISH_AHEAD_S
    """How long ``rotate-keys`` publishes the new key before it signs: at least the verifiers'
    key cache (5 minutes), so that none refuses its first tokens. 0 switches at once."""

    # -- passwords -------------------------------------------------------------------------------

    argon2_memory_kib: Annotated[int, msgspec.Meta(ge=8)] = 19_456
    """argon2id memory cost; OWASP's minimum is 19 MiB (19456 KiB)."""
    argon2_time_cost: Positive = 2
    argon2_parallelism: Positive = 1
    argon2_max_concurrency: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Hashes computed at once per process (each takes ``argon2_memory_kib``); 0: one per CPU."""

    # -- throttling ------------------------------------------------------------------------------

    login_window_s: Seconds = 900
    """The sliding window failed logins and mailed links are counted in."""
    login_max_failures_per_account: Positive = 10
    """Failed logins (or password confirmations) on one address from one client (its IP, or a
    known device) within the window before that client gets 429 for it; other clients do not."""
    login_max_failures_per_address: Positive = 100
    """Failed logins from one client IP within the window before further attempts get 429."""
    login_account_slowdown_after: Positive = 20
    """Failed logins on one address from clients it does not know, within the window, before
    each further one waits (1 s, doubling, up to ``login_account_max_delay_s``) after the
    newest: guessing stays bounded per account (docs/operations.md), and the owner is slowed,
    never shut out; a known device is not slowed."""
    login_account_max_delay_s: Seconds = 60
    """The longest wait the account slowdown imposes."""
    mail_max_per_address: Positive = 3
    """Links (password reset, email verification) mailed to one address within the window; a
    reset asked for beyond it is answered as usual but sends nothing."""
    mail_max_requests_per_client: Positive = 20
    """Mailed-link requests from one client IP within the window before further ones get 429."""
    registration_max_per_client: Positive = 20
    """Sign-ups from one client IP within the window before further ones get 429."""
    registration_reveals_existing: bool = False
    """``true``: a sign-up with an address that has an account answers 409. By default it is
    answered as a new one (202), and the owner is mailed that someone tried: sign-up does not
    tell who has an account."""

    # -- mail ------------------------------------------------------------------------------------

    public_url: str = ""
    """Where identity is reached from outside (links in mail, OIDC redirect URIs); defaults to
    ``jwt_issuer``."""
    link_base_url: str = ""
    """Where the mailed links point: ``<base>/reset-password#token=…`` and
    ``<base>/verify-email#token=…``. Identity serves those pages itself (the default, its public
    URL); an app that owns them sets its own address and posts the token to the API."""
    mail_backend: Literal["file", "smtp"] = "file"
    """``file`` writes each message as an ``.eml`` file under ``mail_dir``; ``smtp`` sends it."""
    mail_dir: str = ".cluster/mail"
    mail_from: str = "aiorch <no-reply@aiorch.localhost>"
    smtp_host: str = ""
    smtp_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    """0: the default of ``smtp_security`` (25, 587 or 465)."""
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    smtp_ca_file: str = ""

    # -- OIDC and the first admin ----------------------------------------------------------------

    oidc_providers: str = ""
    """JSON: ``{"google": {"issuer": "https://accounts.google.com", "client_id": ..., "client_secret":
    ...}}``; empty for none."""
    admin_email: str = ""
    """If set, an admin account with this address is created at start unless it exists."""
    admin_password: str = ""

    def __post_init__(self) -> None:
        try:
            providers_from_json(self.oidc_providers)
        except ValueError as exc:
            raise ValueError(f"IDENTITY_OIDC_PROVIDERS: {exc}") from None
        if self.mail_backend == "smtp" and not self.smtp_host:
            raise ValueError("IDENTITY_SMTP_HOST is required when IDENTITY_MAIL_BACKEND is smtp")
        if bool(self.admin_email) != bool(self.admin_password):
            raise ValueError("AIORCH_ADMIN_EMAIL and AIORCH_ADMIN_PASSWORD go together: set both or neither")

    @property
    def external_url(self) -> str:
        return (self.public_url or self.jwt_issuer).rstrip("/")

    @property
    def mail_link_base(self) -> str:
        return (self.link_base_url or self.external_url).rstrip("/")

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={'***' if name in SECRET_FIELDS and getattr(self, name) else repr(getattr(self, name))}"
            for name in self.__struct_fields__
        )
        return f"Settings({fields})"
