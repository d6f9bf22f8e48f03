"""Login with an external OpenID Connect provider (Google, or any standard issuer): the values
and rules around the port (``application.ports.oidc``).

The flow is the authorization code flow with PKCE (OIDC Core 3.1, RFC 7636):

1. ``authorize``: ``await oidc.authorization_request(provider, redirect_uri)`` gives the
   provider's URL to redirect the browser to and a :class:`PendingLogin` (state, nonce,
   PKCE verifier) that the caller keeps server-side, keyed by its ``state``, for at most
   :data:`PENDING_LOGIN_TTL`;
2. ``callback``: the caller takes the pending login its ``state`` names (each one once),
   :func:`callback_code` checks the state and any error the provider sent back and gives
   the code, and ``await oidc.complete(...)`` exchanges the code and returns the verified
   :class:`OidcIdentity`.

Errors: :class:`OidcError` is an ``InvalidInput`` (HTTP 400) carrying a machine-readable
:class:`OidcFailure`; the login is refused and nothing changes. A provider that cannot be
reached or answers nonsense is not the user's fault: :class:`OidcProviderUnavailable`, not a
domain error, which the HTTP layer answers with 502.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from shared.kernel.errors import InvalidInput

PENDING_LOGIN_TTL = timedelta(minutes=10)
"""How long a user has between ``authorize`` and ``callback``."""

DEFAULT_SCOPES = "openid email profile"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")  # it appears in URLs: /auth/oidc/{name}/...
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class OidcFailure(StrEnum):
    """Why a login was refused; the ``reason`` of an :class:`OidcError`."""

    # Reason codes, not secrets (hence the noqa S105 below).

    UNKNOWN_PROVIDER = "unknown_provider"
    STATE_MISMATCH = "state_mismatch"
    LOGIN_EXPIRED = "login_expired"
    PROVIDER_ERROR = "provider_error"
    TOKEN_ERROR = "token_error"  # noqa: S105
    INVALID_ID_TOKEN = "invalid_id_token"  # noqa: S105
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED_ID_TOKEN = "expired_id_token"  # noqa: S105
    NONCE_MISMATCH = "nonce_mismatch"


class OidcError(InvalidInput):
    """The login was refused (HTTP 400). The detail never holds a code, token or secret."""

    title = "OIDC login refused"

    def __init__(self, reason: OidcFailure, detail: str | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason


class OidcProviderUnavailable(Exception):
    """The provider could not be reached, or its metadata, keys or answers were unusable (HTTP 502)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcProviderConfig:
    """One provider, as registered with it: Google's issuer is ``https://accounts.google.com``.

    The issuer must be https (plain http only on loopback, for tests and local providers);
    its metadata is discovered at ``{issuer}/.well-known/openid-configuration``.
    """

    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str = DEFAULT_SCOPES

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"OIDC provider name {self.name!r} must match {_NAME.pattern}")
        url = urlsplit(self.issuer)
        if not (url.scheme == "https" or (url.scheme == "http" and url.hostname in _LOOPBACK)):
            raise ValueError(f"OIDC provider {self.name!r}: issuer must be an https URL, not {self.issuer!r}")
        if url.query or url.fragment or not url.hostname:
            raise ValueError(f"OIDC provider {self.name!r}: issuer {self.issuer!r} is not a plain URL")
        if not self.client_id or not self.client_secret:
            raise ValueError(f"OIDC provider {self.name!r}: client_id and client_secret are required")
        if "openid" not in self.scopes.split():
            raise ValueError(f"OIDC provider {self.name!r}: scopes must include 'openid'")


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingLogin:
    """What ``authorize`` hands out and ``callback`` needs back; secret, single-use, short-lived."""

    provider: str
    state: str
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    redirect_uri: str
    created_at: datetime

    def expired(self, now: datetime, ttl: timedelta = PENDING_LOGIN_TTL) -> bool:
        return now - self.created_at >= ttl


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    url: str
    """Where to redirect the browser (the provider's authorization endpoint)."""
    pending: PendingLogin


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcIdentity:
    """Who the provider says logged in. ``(issuer, subject)`` is the stable key; an email
    may be reassigned, so link by email only when ``email_verified``."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def callback_code(pending: PendingLogin | None, params: Mapping[str, str]) -> str:
    """The authorization code from the callback's query ``params``, once its ``state`` matches.

    ``pending`` is what the caller stored for that state (``None`` when it found nothing).

    Raises:
        OidcError: ``state_mismatch``, or ``provider_error`` when the provider sent an error
            (``access_denied``...) or no code.
    """
    received = params.get("state", "")
    if pending is None or not hmac.compare_digest(received.encode(), pending.state.encode()):
        raise OidcError(OidcFailure.STATE_MISMATCH, "the login's state does not match")
    if "error" in params:
        # The value comes from the query string: keep it short and printable before echoing it.
        error = "".join(c for c in params["error"][:64] if c.isalnum() or c in "_-.")
        raise OidcError(OidcFailure.PROVIDER_ERROR, f"the provider answered {error or 'an error'}")
    code = params.get("code", "")
    if not code:
        raise OidcError(OidcFailure.PROVIDER_ERROR, "the provider sent no authorization code")
    return code


def providers_from_json(text: str) -> dict[str, OidcProviderConfig]:
    """Provider configurations from JSON: ``{"google": {"issuer": ..., "client_id": ...,
    "client_secret": ..., "scopes": ...}}`` (``scopes`` optional). An empty text means none.

    Raises:
        ValueError: not such an object, or a provider's configuration is invalid.
    """
    if not text.strip():
        return {}
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("OIDC providers must be a JSON object of name → configuration")
    configs: dict[str, OidcProviderConfig] = {}
    for name, entry in document.items():
        if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
            raise ValueError(f"OIDC provider {name!r}: configuration must be an object of strings")
        unknown = set(entry) - {"issuer", "client_id", "client_secret", "scopes"}
        if unknown:
            raise ValueError(f"OIDC provider {name!r}: unknown keys {sorted(unknown)}")
        try:
            configs[name] = OidcProviderConfig(name=name, **entry)
        except TypeError as exc:
            raise ValueError(
                f"OIDC provider {name!r}: issuer, client_id and client_secret are required"
            ) from exc
    return configs
