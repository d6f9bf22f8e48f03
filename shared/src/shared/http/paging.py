"""The query parameters of every cursor-paginated list (``shared.kernel.pagination``), declared
once with their limits so each service's OpenAPI states them alike."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

from shared.kernel.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT

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
