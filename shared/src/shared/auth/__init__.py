"""Access-token verification against identity's JWKS, and its Litestar integration.

``principal``, ``jwks`` and ``verifier`` are framework-free; only ``guard`` knows
Litestar, and it is imported from here for convenience.
"""

from shared.auth.guard import (
    BEARER_SCHEME,
    BEARER_SECURITY,
    PRINCIPAL_DEPENDENCY,
    VERIFIER_STATE_KEY,
    CurrentPrincipal,
    admin_guard,
    authenticate,
    openapi_components,
    openapi_security_scheme,
    principal_dependency,
    provide_principal,
    verify_token,
)
from shared.auth.jwks import JwksFetchError, JwksKeySet
from shared.auth.principal import ROLES, Principal, Role
from shared.auth.verifier import InvalidToken, KeyLookup, TokenVerifier

__all__ = [
    "BEARER_SCHEME",
    "BEARER_SECURITY",
    "PRINCIPAL_DEPENDENCY",
    "ROLES",
    "VERIFIER_STATE_KEY",
    "CurrentPrincipal",
    "InvalidToken",
    "JwksFetchError",
    "JwksKeySet",
    "KeyLookup",
    "Principal",
    "Role",
    "TokenVerifier",
    "admin_guard",
    "authenticate",
    "openapi_components",
    "openapi_security_scheme",
    "principal_dependency",
    "provide_principal",
    "verify_token",
]
