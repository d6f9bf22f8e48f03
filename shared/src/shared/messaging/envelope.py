"""CloudEvents 1.0 in binary mode over NATS.

The attributes travel as headers (``ce-*``), the body is the event's msgspec
JSON. ``Nats-Msg-Id`` equals ``ce-id`` so JetStream drops a re-published
duplicate within its window; ``traceparent`` carries the W3C trace context.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog

from shared.contracts.base import Event, event_type_of, subject_of

SPEC_VERSION = "1.0"
MSG_ID = "Nats-Msg-Id"
_encoder = msgspec.json.Encoder()


class MalformedEvent(ValueError):
    """The message is not a valid event of the expected contracts; it is never retried."""


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    """What the outbox stores and the relay publishes: everything but the transport."""

    event_id: UUID
    subject: str
    event_type: str
    source: str
    occurred_at: datetime
    subject_id: str | None
    traceparent: str
    payload: bytes


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def current_traceparent() -> str:
    """The request's trace context when there is one (bound by the HTTP middleware)."""
    bound = structlog.contextvars.get_contextvars().get("traceparent")
    return bound if isinstance(bound, str) else new_traceparent()


def outgoing(event: Event, *, source: str) -> OutgoingEvent:
    try:
        subject_id: str | None = event.subject_id
    except NotImplementedError:
        subject_id = None
    return OutgoingEvent(
        event_id=event.event_id,
        subject=subject_of(event),
        event_type=event_type_of(event),
        source=source,
        occurred_at=event.occurred_at,
        subject_id=subject_id,
        traceparent=current_traceparent(),
        payload=_encoder.encode(event),
    )


def headers_for(event: OutgoingEvent) -> dict[str, str]:
    headers = {
        "ce-specversion": SPEC_VERSION,
        "ce-id": str(event.event_id),
        "ce-source": event.source,
        "ce-type": event.event_type,
        "ce-time": event.occurred_at.isoformat(),
        "content-type": "application/json",
        "traceparent": event.traceparent,
        MSG_ID: str(event.event_id),
    }
    if event.subject_id:
        headers["ce-subject"] = event.subject_id
    return headers


def decode(headers: Mapping[str, str] | None, body: bytes, decoder: msgspec.json.Decoder[Any]) -> Any:
    """Decode a message into its contract Struct; raise :class:`MalformedEvent` if it is not one."""
    headers = headers or {}
    if headers.get("ce-specversion") != SPEC_VERSION:
        raise MalformedEvent(
            f"ce-specversion is {headers.get('ce-specversion')!r}, expected {SPEC_VERSION!r}"
        )
    try:
        event = decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedEvent(f"body does not match any contract: {exc}") from None
    if not isinstance(event, Event):
        raise MalformedEvent("body is not an event")
    if headers.get("ce-type") != event_type_of(event):
        raise MalformedEvent(
            f"ce-type {headers.get('ce-type')!r} does not match body type {event_type_of(event)!r}"
        )
    if headers.get("ce-id") != str(event.event_id):
        raise MalformedEvent("ce-id does not match the body's event_id")
    return event
