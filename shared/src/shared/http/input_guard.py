"""The edge's checks on what a request carries, before any of it is decoded.

Input a handler cannot use is refused here, for every service, with a problem a person
understands, instead of failing deeper as a 500:

- a NUL character in the path, the query string or a JSON string (PostgreSQL's ``text``
  cannot hold one: the query failed, and a mail job with it) → 400;
- a JSON body nested deeper than :data:`MAX_DEPTH` (decoding it recursed until Python's
  limit) → 400;
- a body larger than the route's limit (``request_max_body_size``, :data:`DEFAULT_BODY_LIMIT`
  unless the route says more), told by ``Content-Length`` or found while reading → 413,
  before anything is parsed;
- a JSON route's body of another media type (a cross-site form can post ``text/plain``, never
  ``application/json``) → 415; an empty one → 400 saying so;
- a body that does not decode *strictly* into the route's type (``{"is_active": 0}`` for a
  boolean: Litestar converts leniently) → 400 naming the field.

It runs after routing (a Litestar middleware), so it knows the route's body type and limit.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import accumulate
from typing import Any, Final

import msgspec
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

MAX_DEPTH: Final = 64
"""Arrays and objects nested deeper than this are refused; no request body needs more."""
DEFAULT_BODY_LIMIT: Final = 64 * 1024
"""Bytes a route reads unless it sets ``request_max_body_size`` itself."""

BODY_REFUSALS: Final = (400, 413, 415)
"""What the guard answers an operation reading a JSON body, whatever its handler does."""
EMPTY_BODY: Final = "The request body is empty; a JSON object is expected."
NUL_DETAIL: Final = "The request contains a NUL character (U+0000), which no field accepts."
_JSON_TYPES: Final = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
# A \u0000 escape that is not itself an escaped backslash followed by "u0000".
_NUL_ESCAPE: Final = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_STRINGS: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS: Final = re.compile(rb"[\[\]{}]")
_DEPTH_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class _JsonBody(msgspec.Struct, frozen=True):
    """What the guard needs to know of a route that reads a JSON body."""

    decoder: msgspec.json.Decoder[Any]
    optional: bool
    type: Any


@lru_cache(maxsize=1024)
def _json_body(handler: HTTPRouteHandler) -> _JsonBody | None:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    media_type = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
    if media_type != RequestEncodingType.JSON:
        return None
    # strict: JSON's 0 is not false, nor "1" a number (Litestar converts them, leniently)
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(data.annotation, strict=True)
    return _JsonBody(decoder=decoder, optional=data.is_optional or data.has_default, type=data.annotation)


def reads_json_body(handler: HTTPRouteHandler) -> bool:
    """Whether the guard checks ``handler``'s body (it reads one, as JSON)."""
    return _json_body(handler) is not None


def too_deep(body: bytes) -> bool:
    """Whether ``body``'s arrays and objects nest deeper than :data:`MAX_DEPTH` (brackets in
    strings do not count). Cheap for ordinary bodies: they have fewer brackets than that."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False
    structure = _BRACKETS.findall(_STRINGS.sub(b"", body))
    return max(accumulate(_DEPTH_STEP[b[0]] for b in structure), default=0) > MAX_DEPTH


def has_nul(body: bytes) -> bool:
    return b"\x00" in body or (b"\\u0000" in body and _NUL_ESCAPE.search(body) is not None)


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


def _too_large(limit: int) -> ClientException:
    return ClientException(
        status_code=413, detail=f"The request body is larger than this operation accepts ({limit} bytes)."
    )


async def _read(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` when the client went away; 413 as soon as it passes ``limit``."""
    length = _header(scope, b"content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")  # type: ignore[assignment]  # an http.request's
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _check_body(body: bytes, scope: Scope, json_body: _JsonBody) -> None:
    content_type = (_header(scope, b"content-type") or b"").decode("latin-1").partition(";")[0].strip()
    if not _JSON_TYPES.match(content_type.lower()):
        raise ClientException(
            status_code=415,
            detail="The request body must be JSON, sent as application/json "
            f"(not {content_type or 'untyped'}).",
        )
    if has_nul(body):
        raise ClientException(detail=NUL_DETAIL)
    if too_deep(body):
        raise ClientException(
            detail=f"The JSON body nests arrays and objects deeper than {MAX_DEPTH} levels."
        )
    try:
        json_body.decoder.decode(body)
    except msgspec.ValidationError as exc:
        _check_with_integral_numbers(body, json_body, exc)  # the rare failing body only: decoded twice
    except msgspec.DecodeError as exc:
        raise ClientException(detail=f"The request body is not valid JSON: {exc}") from None


def _check_with_integral_numbers(body: bytes, json_body: _JsonBody, first: msgspec.ValidationError) -> None:
    """Strict again, with every integral number an integer: JSON has one number type, so ``43.0``
    is the integer 43 (RFC 8259 §6, and JSON Schema's ``integer``), which msgspec's strict
    decoder refuses for an ``int`` (Litestar's lenient one then reads it as 43)."""
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:  # the type was wrong before the JSON broke: that is the answer
        raise _invalid(first) from None
    try:
        msgspec.convert(_integral_as_int(value), json_body.type, strict=True)
    except msgspec.ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: msgspec.ValidationError) -> ValidationException:
    return ValidationException(detail=str(exc), extra=[{"message": str(exc), "key": None, "source": "body"}])


def _integral_as_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_as_int(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral_as_int(item) for key, item in value.items()}
    return value


class InputGuardMiddleware:
    """Litestar middleware: refuses what no handler can use before anything decodes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            raise ClientException(detail=NUL_DETAIL)
        handler = scope.get("route_handler")
        json_body = _json_body(handler) if isinstance(handler, HTTPRouteHandler) else None
        if json_body is None:
            await self.app(scope, receive, send)
            return
        limit = handler.resolve_request_max_body_size() or DEFAULT_BODY_LIMIT  # type: ignore[union-attr]
        body = await _read(scope, receive, limit)
        if body is None:
            return  # the client is gone: nobody to answer
        if body.strip():
            _check_body(body, scope, json_body)
        elif not json_body.optional:
            raise ValidationException(detail=EMPTY_BODY)
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that hands the body already read to the handler, then listens on."""
    pending = True

    async def replayed() -> ReceiveMessage:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


__all__ = [
    "BODY_REFUSALS",
    "DEFAULT_BODY_LIMIT",
    "EMPTY_BODY",
    "MAX_DEPTH",
    "InputGuardMiddleware",
    "has_nul",
    "reads_json_body",
    "too_deep",
]
