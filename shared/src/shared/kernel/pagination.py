"""Keyset (cursor) pagination: ``Page[T]``, opaque cursors, limits.

A list endpoint fetches ``limit + 1`` rows ordered by a unique key (e.g.
``(created_at, id)``) strictly after the decoded cursor position, then builds its
answer with :func:`page_from_rows`. The cursor is the urlsafe base64 of the last
item's key as JSON: opaque to clients, but not secret and not signed. It only says
where to resume, never what the caller may see, so an edited cursor can at worst
skip rows the caller could fetch anyway; access rules stay in the query.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, Generic, TypeVar, overload

import msgspec

T = TypeVar("T")
U = TypeVar("U")
P = TypeVar("P")

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 100
# A position is a couple of timestamps/ids; anything longer was not made by us.
MAX_CURSOR_LENGTH: Final = 512
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class PaginationError(ValueError):
    """Bad paging input from the client (the HTTP layer answers 400)."""


class InvalidCursor(PaginationError):
    """The cursor was not produced by :func:`encode_cursor` for this kind of list."""


class InvalidLimit(PaginationError):
    """The page size is below 1."""


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One page of a list; ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None = None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with every item converted (e.g. a row to its response Struct)."""
        return Page(items=[convert(item) for item in self.items], next_cursor=self.next_cursor)


def encode_cursor(position: Any) -> str:
    """An opaque cursor for a keyset position (any msgspec-encodable value, e.g. a tuple)."""
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).rstrip(b"=").decode("ascii")


@overload
def decode_cursor(cursor: str, position_type: type[P]) -> P: ...
@overload
def decode_cursor(cursor: str, position_type: Any) -> Any: ...  # e.g. tuple[datetime, UUID]


def decode_cursor(cursor: str, position_type: Any) -> Any:
    """The position a cursor stands for, validated against ``position_type``.

    ``position_type`` is typically a tuple type, e.g. ``tuple[datetime, UUID]``.

    Raises:
        InvalidCursor: the cursor is malformed or does not hold a ``position_type``.
    """
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(cursor):
        raise InvalidCursor("The cursor is not valid for this list.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=position_type)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        # msgspec.ValidationError is a DecodeError: well-formed JSON of the wrong shape.
        raise InvalidCursor("The cursor is not valid for this list.") from None


def clamp_limit(limit: int | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """The page size to use: ``default`` when absent, at most ``maximum``.

    Raises:
        InvalidLimit: ``limit`` is below 1.
    """
    if limit is None:
        return min(default, maximum)
    if limit < 1:
        raise InvalidLimit(f"limit must be at least 1, got {limit}.")
    return min(limit, maximum)


def page_from_rows(rows: Sequence[T], limit: int, key: Callable[[T], Any]) -> Page[T]:
    """The page for ``rows`` fetched with ``LIMIT limit + 1``.

    The extra row only tells that more follow: it is dropped, and the cursor is the
    key of the last item kept, so the next query resumes strictly after it.
    """
    if limit < 1:
        raise InvalidLimit(f"limit must be at least 1, got {limit}.")
    items = list(rows[:limit])
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
