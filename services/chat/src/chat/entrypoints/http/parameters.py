"""Path and query parameters several of chat's controllers take, declared once with their limits."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.params import PathParameter, QueryParameter

from shared.kernel.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT

ConversationId = Annotated[UUID, PathParameter(description="One of my conversations, by its `id`.")]
MessageId = Annotated[UUID, PathParameter(description="A message of one of my conversations, by its `id`.")]
Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=MAX_CURSOR_LENGTH,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="From the previous page's `next_cursor`.",
    ),
]
Limit = Annotated[
    int | None, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
]
