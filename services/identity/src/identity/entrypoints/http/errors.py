"""identity's refusals that the shared problem mapping does not know: 401, 429 and 502."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response

from identity.application.errors import TooManyAttempts, Unauthenticated
from identity.application.oidc import OidcProviderUnavailable
from shared.http.problems import Problem, problem_response

_log = structlog.get_logger("identity.oidc")


def unauthenticated(request: Request[Any, Any, Any], exc: Unauthenticated) -> Response[Problem]:
    # RFC 9110 §15.5.2: a 401 names the scheme that would work.
    return problem_response(request, 401, exc.detail, title=exc.title, headers={"WWW-Authenticate": "Bearer"})


def too_many_attempts(request: Request[Any, Any, Any], exc: TooManyAttempts) -> Response[Problem]:
    return problem_response(
        request, 429, exc.detail, title=exc.title, headers={"Retry-After": str(exc.retry_after)}
    )


def provider_unavailable(request: Request[Any, Any, Any], exc: OidcProviderUnavailable) -> Response[Problem]:
    # The reason names the provider's URLs: for the log, not for the client.
    _log.warning("oidc provider unavailable", reason=str(exc))
    return problem_response(
        request, 502, "The login provider cannot be reached right now.", title="Bad gateway"
    )


EXCEPTION_HANDLERS: Any = {
    Unauthenticated: unauthenticated,
    TooManyAttempts: too_many_attempts,
    OidcProviderUnavailable: provider_unavailable,
}
