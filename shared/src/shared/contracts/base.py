"""The base of every integration event.

The tag (``type`` in the body, ``ce-type`` in the headers) is the versioned
event type ``aiorch.<context>.<aggregate>.<event>.v<N>``; the NATS subject is
``<context>.<aggregate>.<event>``. Evolve by adding fields with defaults only;
a breaking change is a new ``v2`` Struct published beside ``v1``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Union
from uuid import UUID

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Every event has an id (the ``Nats-Msg-Id`` and inbox key) and a time."""

    subject: ClassVar[str]
    event_id: UUID
    occurred_at: datetime

    @property
    def subject_id(self) -> str:
        """The id of the aggregate the event is about (``ce-subject``)."""
        raise NotImplementedError


def event_type_of(event: Event | type[Event]) -> str:
    cls = event if isinstance(event, type) else type(event)
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str), f"{cls.__name__} must be tagged with its event type"
    return tag


def subject_of(event: Event | type[Event]) -> str:
    cls = event if isinstance(event, type) else type(event)
    return cls.subject


def union_decoder(*types: type[Event]) -> msgspec.json.Decoder[Any]:
    """One decoder for a context's tagged union, built once at import."""
    return msgspec.json.Decoder(Union[types])  # noqa: UP007 - a runtime union of a tuple
