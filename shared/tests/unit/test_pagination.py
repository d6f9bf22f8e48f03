"""Cursor pagination: opaque cursors, limits, and pages built from limit + 1 rows."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import msgspec
import pytest

from shared.kernel.pagination import (
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    InvalidLimit,
    Page,
    PaginationError,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    page_from_rows,
)

Position = tuple[datetime, UUID]


class Row(msgspec.Struct, frozen=True):
    id: UUID
    created_at: datetime
    title: str


class Item(msgspec.Struct, frozen=True):
    id: UUID
    title: str


def rows(count: int) -> list[Row]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [Row(id=uuid4(), created_at=start + timedelta(minutes=n), title=f"row {n}") for n in range(count)]


def position(row: Row) -> Position:
    return (row.created_at, row.id)


# Cursors


def test_a_cursor_round_trips_a_keyset_position() -> None:
    when, ident = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC), uuid4()

    cursor = encode_cursor((when, ident))

    assert decode_cursor(cursor, Position) == (when, ident)


@pytest.mark.parametrize("value", [(1, "a"), ("only",), 42, "text", [1, 2, 3], {"score": 3.5, "id": 7}])
def test_any_msgspec_encodable_position_round_trips(value: object) -> None:
    assert decode_cursor(encode_cursor(value), type(value)) == value


def test_a_cursor_is_url_safe_and_unpadded() -> None:
    for n in range(1, 40):
        cursor = encode_cursor("x" * n + "?/+")

        assert cursor.isascii()
        assert not set(cursor) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "not base64 at all",
        "abc=",
        "a",  # not a whole base64 quantum
        b64(b"not json"),
        b64(b'["2025-01-01T00:00:00Z"]'),  # too short for the position
        b64(b'["yesterday", "00000000-0000-0000-0000-000000000000"]'),
        b64(b'["2025-01-01T00:00:00Z", "not-a-uuid"]'),
        b64(b'{"created_at": "2025-01-01T00:00:00Z"}'),
        b64(b"\xff\xfe"),
        "A" * (MAX_CURSOR_LENGTH + 4),
    ],
)
def test_a_garbage_cursor_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, Position)


def test_a_tampered_cursor_is_an_invalid_cursor() -> None:
    cursor = encode_cursor((datetime(2025, 1, 1, tzinfo=UTC), uuid4()))
    tampered = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]

    with pytest.raises(InvalidCursor):
        decode_cursor(tampered, Position)


def test_a_cursor_of_another_list_is_an_invalid_cursor() -> None:
    cursor = encode_cursor((3, "slug"))

    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, Position)


def test_invalid_cursor_is_a_value_error_the_http_layer_can_map() -> None:
    assert issubclass(InvalidCursor, PaginationError)
    assert issubclass(InvalidLimit, PaginationError)
    assert issubclass(PaginationError, ValueError)
    assert "not valid" in str(InvalidCursor("The cursor is not valid for this list."))


# Limits


@pytest.mark.parametrize(
    ("requested", "used"), [(None, 50), (1, 1), (50, 50), (100, 100), (101, 100), (10**9, 100)]
)
def test_the_limit_defaults_and_is_clamped_to_the_maximum(requested: int | None, used: int) -> None:
    assert clamp_limit(requested) == used


def test_the_default_and_maximum_can_be_chosen() -> None:
    assert clamp_limit(None, default=20, maximum=30) == 20
    assert clamp_limit(None, default=50, maximum=30) == 30
    assert clamp_limit(99, default=20, maximum=30) == 30


@pytest.mark.parametrize("limit", [0, -1, -100])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(InvalidLimit, match="at least 1"):
        clamp_limit(limit)


# Pages


def test_more_rows_than_the_limit_give_a_page_and_a_cursor_to_the_last_item() -> None:
    fetched = rows(4)  # limit + 1

    page = page_from_rows(fetched, 3, key=position)

    assert page.items == fetched[:3]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor, Position) == position(fetched[2])


@pytest.mark.parametrize("count", [0, 1, 3])
def test_up_to_limit_rows_are_the_last_page(count: int) -> None:
    fetched = rows(count)

    page = page_from_rows(fetched, 3, key=position)

    assert page.items == fetched
    assert page.next_cursor is None


def test_paging_through_with_cursors_visits_every_row_once() -> None:
    table = rows(11)
    seen: list[Row] = []
    cursor: str | None = None
    while True:
        after = decode_cursor(cursor, Position) if cursor else None
        remaining = [row for row in table if after is None or position(row) > after]
        page = page_from_rows(remaining[: 4 + 1], 4, key=position)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == table


def test_page_from_rows_refuses_a_limit_below_one() -> None:
    with pytest.raises(InvalidLimit):
        page_from_rows(rows(2), 0, key=position)


def test_a_page_maps_its_items_and_keeps_its_cursor() -> None:
    page = page_from_rows(rows(3), 2, key=position)

    mapped: Page[Item] = page.map(lambda row: Item(id=row.id, title=row.title))

    assert [item.title for item in mapped.items] == ["row 0", "row 1"]
    assert mapped.next_cursor == page.next_cursor


def test_a_page_encodes_to_json_with_items_and_next_cursor() -> None:
    ident = uuid4()
    page = Page(items=[Item(id=ident, title="a")], next_cursor="abc")

    encoded = msgspec.json.encode(page)

    assert msgspec.json.decode(encoded) == {"items": [{"id": str(ident), "title": "a"}], "next_cursor": "abc"}
    assert msgspec.json.decode(encoded, type=Page[Item]) == page
    assert msgspec.json.decode(b'{"items": []}', type=Page[Item]) == Page(items=[])
