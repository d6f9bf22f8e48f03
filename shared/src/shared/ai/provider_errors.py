"""What a provider's refusal or a broken connection means, as the port's :class:`ModelError` kinds.

The detail quotes what the provider said (its error message, cut short), so a person can act
on it, with the API key scrubbed out should a provider echo it back.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx

from shared.kernel.ai import (
    ModelAuthenticationFailed,
    ModelError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelTimeout,
    ModelUnavailable,
)

_MAX_MESSAGE = 500


class Secret:
    """An API key that never shows in a repr, a log line or an error."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None) -> None:
        self._value = value or None

    def reveal(self) -> str | None:
        return self._value

    def scrub(self, text: str) -> str:
        return text.replace(self._value, "***") if self._value else text

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret(None)"

    __str__ = __repr__


def status_error(response: httpx.Response, body: bytes, secret: Secret) -> ModelError:
    """The error an HTTP error status with this body means."""
    status = response.status_code
    detail = secret.scrub(f"the model provider answered {status}: {provider_message(body)}")
    if status in (401, 403):
        return ModelAuthenticationFailed(detail)
    if status == 429:
        return ModelRateLimited(detail, retry_after_s=retry_after(response.headers.get("retry-after")))
    if status == 408:
        return ModelTimeout(detail)
    if status >= 500:
        return ModelUnavailable(detail)
    return ModelRequestRejected(detail)


def stream_error(error: Any, secret: Secret) -> ModelError:
    """An error object sent in place of a chunk, after a 200 (the answer cannot go on)."""
    message = _message_of(error) or "an unspecified error"
    detail = secret.scrub(f"the model failed during its answer: {message}"[:_MAX_MESSAGE])
    code = error.get("code") if isinstance(error, dict) else None
    if code in (429, "429", "rate_limit_exceeded"):
        return ModelRateLimited(detail)
    if code in ("context_length_exceeded", "invalid_request_error", 400, "400"):
        return ModelRequestRejected(detail)
    return ModelUnavailable(detail)


def transport_error(exc: httpx.HTTPError, secret: Secret) -> ModelError:
    """A connection that could not be made, or broke (or a body httpx could not decode): unavailable,
    or a timeout to connect."""
    what = secret.scrub(str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.ConnectTimeout):
        return ModelTimeout(f"could not connect to the model provider in time: {what}")
    if isinstance(exc, httpx.ConnectError):
        return ModelUnavailable(f"could not connect to the model provider: {what}")
    return ModelUnavailable(f"the connection to the model provider broke: {what}")


def provider_message(body: bytes) -> str:
    """The provider's own message from an error body (JSON ``error.message`` and kin), or the text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    message = _message_of(parsed) if parsed is not None else None
    return (message or text or "no error message")[:_MAX_MESSAGE]


def _message_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return None
    for key in ("error", "message", "detail"):
        if key in value:
            found = _message_of(value[key])
            if found:
                return found
    return None


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
