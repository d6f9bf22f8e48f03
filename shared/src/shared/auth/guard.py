"""Litestar side of authentication: bearer token → :class:`Principal`, admin guard, OpenAPI.

Wiring (bootstrap / app factory):

- put the service's :class:`TokenVerifier` in the app state under
  :data:`VERIFIER_STATE_KEY` (in the lifespan, where its HTTP client is built);
- register ``dependencies={"principal": principal_dependency()}``;
- add :data:`openapi_components` to the OpenAPI config and ``security=BEARER_SECURITY``
  on the protected routers or controllers.

A handler then declares ``principal: CurrentPrincipal`` (a ``Principal``, marked as
the named dependency as Litestar 2.23+ wants); an admin-only one also adds
``guards=[admin_guard]``. The token is verified once per request even when both the
guard and the dependency ask for it.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

import structlog
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, ServiceUnavailableException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme
from litestar.params import SkipValidation

from shared.auth.jwks import JwksFetchError
from shared.auth.principal import Principal
from shared.auth.revocations import RevocationsUnknown
from shared.auth.verifier import InvalidToken, TokenVerifier

VERIFIER_STATE_KEY: Final = "token_verifier"
PRINCIPAL_DEPENDENCY: Final = "principal"

# Built by the verifier, not parsed from the request: nothing to validate, and a verifier may
# answer a subclass carrying more (which validation would refuse).
CurrentPrincipal: TypeAlias = NamedDependency[SkipValidation[Principal]]
"""Annotation for the handler parameter ``principal``: the verified caller."""
BEARER_SCHEME: Final = "BearerToken"

openapi_security_scheme: Final = SecurityScheme(
    type="http",
    scheme="bearer",
    bearer_format="JWT",
    description="Access token issued by the identity service (EdDSA-signed JWT, `typ: at+jwt`).",
)
openapi_components: Final = Components(security_schemes={BEARER_SCHEME: openapi_security_scheme})
BEARER_SECURITY: Final[list[SecurityRequirement]] = [{BEARER_SCHEME: []}]

_PRINCIPAL_KEY: Final = "aiorch.principal"
# RFC 6750 §3: no error code when credentials are absent, invalid_token when refused.
_CHALLENGE: Final = {"WWW-Authenticate": "Bearer"}
_INVALID_TOKEN_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer error="invalid_token"'}

_log = structlog.get_logger("auth")


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The caller of this request, verified once and remembered for the request.

    Raises:
        NotAuthorizedException: no bearer token, or a refused one (401).
        ServiceUnavailableException: no verification key can be obtained, or the process has
            not yet read identity's revocations (it is starting) (503).
    """
    state = connection.scope.setdefault("state", {})
    cached = state.get(_PRINCIPAL_KEY)
    if isinstance(cached, Principal):
        return cached
    principal = await verify_token(connection, _bearer_token(connection))
    state[_PRINCIPAL_KEY] = principal
    return principal


async def verify_token(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Principal:
    """The principal of an access token that did not come in an ``Authorization`` header (a
    WebSocket's first frame or subprotocol, say); raises as :func:`authenticate` does."""
    try:
        return await _verifier(connection).verify(token)
    except InvalidToken as exc:
        _log.info("access token refused", reason=exc.reason, path=connection.url.path)
        raise NotAuthorizedException(
            detail="The access token is invalid or expired.", headers=_INVALID_TOKEN_CHALLENGE
        ) from None
    except JwksFetchError as exc:
        _log.error("cannot verify access tokens", error=str(exc))
        raise ServiceUnavailableException(
            detail="Access tokens cannot be verified right now.", headers={"Retry-After": "5"}
        ) from None
    except RevocationsUnknown:
        # Starting: a token may have been revoked while this process was away.
        raise ServiceUnavailableException(
            detail="Access tokens cannot be verified right now.", headers={"Retry-After": "1"}
        ) from None


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return await authenticate(request)


def principal_dependency() -> Provide:
    """The ``Provide`` to register as ``"principal"`` (:data:`PRINCIPAL_DEPENDENCY`)."""
    return Provide(provide_principal)


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Litestar guard: 401 without a valid token, 403 unless the caller is an admin."""
    principal = await authenticate(connection)
    if not principal.is_admin:
        raise PermissionDeniedException(detail="This operation requires the admin role.")


def _bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    # Read from the raw ASGI headers (lower-case names): parsing them all into a Headers
    # object would cost more than the rest of a remembered token's check.
    authorization = next(
        (value.decode("latin-1") for name, value in connection.scope["headers"] if name == b"authorization"),
        None,
    )
    if not authorization:
        raise NotAuthorizedException(detail="A bearer access token is required.", headers=_CHALLENGE)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise NotAuthorizedException(detail="A bearer access token is required.", headers=_CHALLENGE)
    token = token.strip()
    if not token:
        raise NotAuthorizedException(
            detail="The access token is invalid or expired.", headers=_INVALID_TOKEN_CHALLENGE
        )
    return token


def _verifier(connection: ASGIConnection[Any, Any, Any, Any]) -> TokenVerifier:
    verifier = connection.app.state.get(VERIFIER_STATE_KEY)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError(f"no TokenVerifier in app.state[{VERIFIER_STATE_KEY!r}]; bind it in the lifespan")
    return verifier
