"""The OpenID Connect relying-party port (the flow: ``application.oidc``)."""

from __future__ import annotations

from typing import Protocol

from identity.application.oidc import AuthorizationRequest, OidcIdentity, PendingLogin


class OidcClient(Protocol):
    """Relying party for the configured providers (authorization code flow, PKCE S256)."""

    async def authorization_request(self, provider: str, redirect_uri: str) -> AuthorizationRequest:
        """A fresh state, nonce and PKCE verifier (≥128 random bits each) and the URL to send the user to.

        Raises:
            OidcError: ``unknown_provider``.
            OidcProviderUnavailable: the provider's metadata cannot be read.
        """
        ...

    async def complete(
        self, provider: str, *, code: str, pending: PendingLogin, redirect_uri: str
    ) -> OidcIdentity:
        """Exchange ``code`` (with the PKCE verifier) and verify the ID token: signature against the
        provider's published keys, ``iss``, ``aud`` (and ``azp``), ``exp``, ``iat`` and ``nonce``.

        Raises:
            OidcError: any check failed, the pending login is older than its TTL or belongs to
                another provider or redirect URI, or the provider refused the code.
            OidcProviderUnavailable: the provider cannot be reached or answered nonsense.
        """
        ...
