"""RFC 9457 problem details for every error a service can answer with.

Validation errors carry the path of each offending field (``$.email``), domain
errors map to their status, and anything unexpected becomes a bare 500 whose
details go to the log only.
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from shared.db.outage import is_outage
from shared.kernel import ai, errors
from shared.kernel.pagination import InvalidCursor

PROBLEM_JSON = "application/problem+json"
_NAMED_FIELD = re.compile(r"(?:missing required|contains unknown) field `([^`]+)`")
# msgspec's wording of a length limit, and what a person reads instead
_LENGTH = re.compile(r"^Expected `(str|array|object)` of length (>=|<=) (\d+)$")
_UNITS = {"str": "characters", "array": "items", "object": "fields"}
_PATTERN = re.compile(r"^Expected `str` matching regex ")

_log = structlog.get_logger("http.errors")

_DOMAIN_STATUS: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidInput: 400,
    errors.Forbidden: 403,
    errors.PreconditionFailed: 412,
    errors.Unprocessable: 422,
    errors.TooManyRequests: 429,
}

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """The problem details body (RFC 9457)."""

    type: str = "about:blank"
    title: str = ""
    status: int = 500
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
    request_id: str | None = None


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None,
    *,
    title: str | None = None,
    field_errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    body = Problem(
        title=title or _TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=field_errors,
        request_id=request_id,
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _humane(message: str) -> str:
    """``Expected `str` of length >= 8`` as ``must be at least 8 characters``; others as they are."""
    if _PATTERN.match(message):
        return "holds characters this field does not accept (its pattern is in the API schema)"
    length = _LENGTH.match(message)
    if length is None:
        return message
    kind, bound, number = length.groups()
    return f"must be {'at least' if bound == '>=' else 'at most'} {number} {_UNITS[kind]}"


def _field_path(key: str | None) -> str:
    if not key:
        return "$"
    return key if key.startswith("$") else f"$.{key}"


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    found: list[FieldError] = []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        key = item.get("key")
        source = item.get("source")
        # msgspec reports the location inside the body as "... - at `$.a.b`"
        body_path: str | None = None
        if " - at `" in message:
            message, _, path = message.partition(" - at `")
            body_path = path.rstrip("`")
        # a missing or unknown field is named in the message, not in the path
        named = _NAMED_FIELD.search(message)
        if named:
            key = f"{body_path or '$'}.{named.group(1)}"
        elif body_path:
            key = body_path
        elif source == "body":
            key = "$" if key in (None, "", "data") else f"$.{key}"
        elif source and key:
            # ParamType is an Enum: its value ("query", "header"...) names where the field was
            key = f"{getattr(source, 'value', source)}.{key}"
        found.append(FieldError(field=_field_path(key), message=_humane(message)))
    return found


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    field_errors = _validation_errors(exc)
    detail = "; ".join(f"{e.field}: {e.message}" for e in field_errors) or exc.detail
    return problem_response(request, 400, detail, title="Invalid request", field_errors=field_errors)


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    detail = exc.detail if exc.detail and exc.detail != _TITLES.get(status) else None
    return problem_response(request, status, detail, headers=exc.headers)


def handle_domain(request: Request[Any, Any, Any], exc: errors.DomainError) -> Response[Problem]:
    status = next((code for kind, code in _DOMAIN_STATUS.items() if isinstance(exc, kind)), 400)
    headers: dict[str, str] | None = None
    if isinstance(exc, errors.TooManyRequests) and exc.retry_after_s is not None:
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return problem_response(request, status, exc.detail, title=exc.title, headers=headers)


def handle_cursor(request: Request[Any, Any, Any], exc: InvalidCursor) -> Response[Problem]:
    return problem_response(request, 400, str(exc), title="Invalid cursor")


def handle_model_error(request: Request[Any, Any, Any], exc: ai.ModelError) -> Response[Problem]:
    """A model provider's failure: 504 timed out, 503 unavailable or rate limited, 502 otherwise.

    The detail is what the provider said (the adapters keep API keys out of it).
    """
    headers: dict[str, str] | None = None
    if isinstance(exc, ai.ModelTimeout):
        status, title = 504, "Model timed out"
    elif isinstance(exc, ai.ModelRateLimited):
        status, title = 503, "Model rate limited"
        if exc.retry_after_s is not None:
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    elif isinstance(exc, ai.ModelUnavailable):
        status, title = 503, "Model unavailable"
    else:
        status, title = 502, "Model error"
    _log.warning("model error", path=request.url.path, error_type=type(exc).__name__, status=status)
    return problem_response(request, status, exc.detail, title=title, headers=headers)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if is_outage(exc):
        return _unavailable(request, exc)
    _log.exception("unhandled error", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(request, HTTP_500_INTERNAL_SERVER_ERROR, "An unexpected error occurred.")


RETRY_AFTER_S = 2
"""What a 503 during a database outage suggests: a restart or a failover takes seconds."""


def _unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # Expected and passing: one line each, no traceback (an outage used to print hundreds).
    _log.warning(
        "database unavailable", path=request.url.path, error_type=type(exc).__name__, error=_first_line(exc)
    )
    return problem_response(
        request,
        503,
        "The service's database cannot be reached right now; try again shortly.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _first_line(exc: Exception) -> str:
    # the driver's own message: a DBAPIError's str() goes on with the statement
    origin = getattr(exc, "orig", None) or exc
    return (str(origin).splitlines() or [""])[0][:200]


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    ValidationException: handle_validation,
    HTTPException: handle_http,
    errors.DomainError: handle_domain,
    InvalidCursor: handle_cursor,
    ai.ModelError: handle_model_error,
    Exception: handle_unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "FieldError", "Problem", "problem_response"]


def problem_of(exc: Exception, *, instance: str | None = None) -> Problem:
    """The problem an error is answered with where no HTTP response carries it (a WebSocket
    frame, say): the same status, title and detail the handlers above give."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if isinstance(exc, errors.DomainError):
        status = next((code for kind, code in _DOMAIN_STATUS.items() if isinstance(exc, kind)), 400)
        return Problem(
            title=exc.title, status=status, detail=exc.detail, instance=instance, request_id=request_id
        )
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = exc.detail if exc.detail and exc.detail != _TITLES.get(status) else None
        return Problem(
            title=_TITLES.get(status, "Error"),
            status=status,
            detail=detail,
            instance=instance,
            request_id=request_id,
        )
    if isinstance(exc, InvalidCursor):
        return Problem(
            title="Invalid cursor", status=400, detail=str(exc), instance=instance, request_id=request_id
        )
    if isinstance(exc, msgspec.ValidationError | msgspec.DecodeError):
        return Problem(
            title=_TITLES[400], status=400, detail=_humane(str(exc)), instance=instance, request_id=request_id
        )
    if is_outage(exc):
        return Problem(
            title=_TITLES[503],
            status=503,
            detail="The service's database cannot be reached right now; try again shortly.",
            instance=instance,
            request_id=request_id,
        )
    _log.exception("unhandled error", path=instance, error_type=type(exc).__name__)
    return Problem(
        title=_TITLES[500],
        status=500,
        detail="An unexpected error occurred.",
        instance=instance,
        request_id=request_id,
    )
