"""Use cases: log in through an external OpenID Connect provider (``application.oidc``)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from identity.application.errors import InvalidCredentials
from identity.application.oidc import (
    PENDING_LOGIN_TTL,
    AuthorizationRequest,
    OidcError,
    OidcFailure,
    OidcIdentity,
    callback_code,
)
from identity.application.ports import AccessTokenIssuer, Clock, OidcClient, SecretTokens, UnitOfWork
from identity.application.tokens import TokenPair, open_session
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.emails import InvalidEmail, normalise_email
from identity.domain.oidc_links import OidcLink
from identity.domain.sessions import ClientInfo, SessionLifetime
from identity.domain.users import MAX_NAME_LENGTH, User, normalise_name
from shared.kernel.errors import Conflict, InvalidInput


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishOidcLogin:
    provider: str
    params: Mapping[str, str] = field(repr=False)
    """The callback's query: ``state`` and ``code``, or ``error``."""
    browser_state: str | None = field(repr=False)
    """The state this browser was given at ``authorize`` (a cookie), against login CSRF."""
    client: ClientInfo = field(default_factory=ClientInfo)


def redirect_uri(public_url: str, provider: str) -> str:
    return f"{public_url}/api/v1/auth/oidc/{provider}/callback"


async def start_oidc_login(
    provider: str, uow: UnitOfWork, *, oidc: OidcClient | None, clock: Clock, public_url: str
) -> AuthorizationRequest:
    """Where to send the browser, and the pending login kept (by its state) for the callback.

    Rules: pending logins live in the database (any API process may get the callback),
    for at most ``PENDING_LOGIN_TTL``; expired ones are swept here.
    """
    request = await _client(oidc).authorization_request(provider, redirect_uri(public_url, provider))
    now = clock.now()
    async with uow:
        await uow.pending_logins.prune(now)
        await uow.pending_logins.add(request.pending, expires_at=now + PENDING_LOGIN_TTL)
        await uow.commit()
    return request


async def finish_oidc_login(
    cmd: FinishOidcLogin,
    uow: UnitOfWork,
    *,
    oidc: OidcClient | None,
    secrets: SecretTokens,
    access_tokens: AccessTokenIssuer,
    clock: Clock,
    lifetime: SessionLifetime,
    max_sessions: int,
) -> TokenPair:
    """Complete the login and open a session, as a password login does.

    Rules:
        * The callback's ``state`` must be the one given to this very browser (login CSRF:
          nobody can make a victim's browser finish a login the attacker started) and name
          a pending login, which is taken once, whatever happens next.
        * The provider's answer is verified by the OIDC client (PKCE, ID token signature,
          issuer, audience, expiry, nonce).
        * An identity seen before signs in to its linked account. A new one is linked to the
          account with the same address only if the provider says the address is verified
          and this account's address is verified too (else a stranger could pre-register an
          address and wait for its owner to link it); otherwise it gets a new account without
          a password, verified if the provider says so.
        * A deactivated account is refused like a failed login.
    """
    client = _client(oidc)
    state = cmd.params.get("state", "")
    if not cmd.browser_state or not hmac.compare_digest(cmd.browser_state.encode(), state.encode()):
        raise OidcError(OidcFailure.STATE_MISMATCH, "this browser did not start this login")
    now = clock.now()
    async with uow:
        pending = await uow.pending_logins.take(state, now)
        await uow.commit()
    code = callback_code(pending, cmd.params)
    assert pending is not None
    identity = await client.complete(
        cmd.provider, code=code, pending=pending, redirect_uri=pending.redirect_uri
    )
    async with uow:
        user = await _account_for(uow, cmd, identity, now=now)
        if not user.is_active:
            raise InvalidCredentials
        pair = await open_session(
            uow,
            user=user,
            client=cmd.client,
            now=now,
            secrets=secrets,
            access_tokens=access_tokens,
            lifetime=lifetime,
            max_sessions=max_sessions,
        )
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.OIDC_LOGIN, at=now, user_id=user.id, client=cmd.client, provider=cmd.provider
            )
        )
        await uow.commit()
    return pair


async def _account_for(
    uow: UnitOfWork, cmd: FinishOidcLogin, identity: OidcIdentity, *, now: datetime
) -> User:
    link = await uow.oidc_links.get(cmd.provider, identity.subject)
    user = None if link is None else await uow.users.get(link.user_id)
    if user is not None:
        return user
    if not identity.email:
        raise OidcError(OidcFailure.PROVIDER_ERROR, "the provider shared no email address")
    try:
        email = normalise_email(identity.email)
    except InvalidEmail:
        raise OidcError(OidcFailure.PROVIDER_ERROR, "the provider's email address is not valid") from None
    user = await uow.users.by_email(email)
    if user is not None:
        if not (identity.email_verified and user.email_verified):
            raise Conflict(
                "An account with this email address exists; sign in with its password to use it "
                "(and verify its address before linking a provider)."
            )
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.OIDC_LINKED, at=now, user_id=user.id, client=cmd.client, provider=cmd.provider
            )
        )
    else:
        user = User.register(
            email=email,
            name=_name(identity.name),
            password_hash=None,
            now=now,
            email_verified_at=now if identity.email_verified else None,
        )
        await uow.users.add(user)
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.USER_REGISTERED, at=now, user_id=user.id, client=cmd.client, provider=cmd.provider
            )
        )
    await uow.oidc_links.add(
        OidcLink(provider=cmd.provider, subject=identity.subject, user_id=user.id, created_at=now)
    )
    return user


def _name(raw: str | None) -> str | None:
    # A provider's display name is a courtesy: an unusable one is dropped, not a reason to refuse.
    try:
        return normalise_name(raw[:MAX_NAME_LENGTH] if raw else None)
    except InvalidInput:
        return None


def _client(oidc: OidcClient | None) -> OidcClient:
    if oidc is None:
        raise OidcError(OidcFailure.UNKNOWN_PROVIDER, "no OIDC provider is configured")
    return oidc
