"""identity verifies its own access tokens: keys from its own key ring, and a live session.

Other services fetch identity's JWKS over HTTP; identity has the key ring in hand, so
its :class:`OwnKeys` reads it directly (no HTTP to itself), and
:class:`LiveSessionVerifier` adds the session check only the session owner can make.
"""

from __future__ import annotations

from typing import Any

from jwt import PyJWK

from identity.adapters.crypto.signing_keys import FileSigningKeys
from identity.application.ports import SessionGate, SigningKeys
from identity.domain.users import User
from shared.auth import InvalidToken, KeyLookup, Principal, TokenVerifier
from shared.auth.verifier import DEFAULT_MAX_LIFETIME_S


class OwnKeys:
    """:class:`shared.auth.KeyLookup` over identity's key ring: exactly the keys it publishes.

    The ring is asked on every call, so a retired key stops verifying at once; the keys
    are parsed again only when the ring answers another JWKS document (its file changed,
    or a key's overlap ended), and a key still published keeps its parsed object. A key
    file's ring looks at the file at most once a second; a kid it does not know makes it
    look at once, so a rotation by another process verifies its first token.
    """

    def __init__(self, keys: SigningKeys) -> None:
        self._keys = keys
        self._document: dict[str, Any] | None = None
        self._parsed: dict[tuple[str, str], PyJWK] = {}  # by (kid, x)
        self._by_kid: dict[str, PyJWK] = {}

    async def get(self, kid: str) -> PyJWK | None:
        key = self._lookup(kid)
        if key is None and isinstance(self._keys, FileSigningKeys) and self._keys.recheck():
            key = self._lookup(kid)
        return key

    def _lookup(self, kid: str) -> PyJWK | None:
        document = self._keys.jwks()
        if document is not self._document:
            self._reindex(document)
        return self._by_kid.get(kid)

    def _reindex(self, document: dict[str, Any]) -> None:
        # A key still published keeps its object: the tokens the verifier remembers stay valid.
        parsed = {(jwk["kid"], jwk["x"]): jwk for jwk in document["keys"]}
        self._parsed = {
            ident: self._parsed.get(ident) or PyJWK(jwk, algorithm="EdDSA") for ident, jwk in parsed.items()
        }
        self._by_kid = {kid: key for (kid, _), key in self._parsed.items()}
        self._document = document


class SessionCheckedPrincipal(Principal, frozen=True, kw_only=True):
    """A :class:`shared.auth.Principal` checked against its live session, with the account as
    that check read it, so ``GET /users/me`` answers it without a second read: identity's
    :class:`~identity.application.ports.AccountPrincipal`."""

    account: User


class LiveSessionVerifier(TokenVerifier):
    """A :class:`shared.auth.TokenVerifier` that also refuses tokens whose session was revoked,
    whose account was deactivated, or whose role is no longer the account's.

    The signature and claims of a token already verified are remembered (``TokenVerifier``);
    the session check is not: it runs on every request, so revocation takes effect at once.
    """

    def __init__(
        self,
        keys: KeyLookup,
        gate: SessionGate,
        *,
        issuer: str,
        audience: str,
        max_lifetime: float = DEFAULT_MAX_LIFETIME_S,
    ) -> None:
        # max_lifetime: what identity issues (its access-token TTL); a longer-lived token is forged
        super().__init__(keys, issuer=issuer, audience=audience, max_lifetime=max_lifetime)
        self._gate = gate

    async def verify(self, token: str) -> SessionCheckedPrincipal:
        principal = await super().verify(token)
        account = await self._gate.live_account(principal.session_id, principal.user_id)
        if account is None:
            raise InvalidToken("session revoked or account inactive")
        if account.role != principal.role:
            # A demoted admin must not keep admin rights for the token's remaining minutes.
            raise InvalidToken("role changed since the token was issued")
        return SessionCheckedPrincipal(
            user_id=principal.user_id,
            role=principal.role,
            session_id=principal.session_id,
            token_id=principal.token_id,
            expires_at=principal.expires_at,
            account=account,
        )
