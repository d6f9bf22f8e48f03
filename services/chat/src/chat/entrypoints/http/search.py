"""``/search``: full-text search over the caller's conversation titles and message contents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Final, TypeAlias
from uuid import UUID

import msgspec
from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter, SkipValidation

from chat.application import search as use_cases
from chat.application.ports.search import SearchIndex, SearchPosition
from chat.entrypoints.http.search_schemas import SearchHitResponse
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.http.openapi import NO_NUL, problem_responses
from shared.kernel.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, Page, decode_cursor, encode_cursor

SEARCH_INDEX: Final = "chat_search_index"
"""``app.state`` key of the :class:`SearchIndex` the bootstrap's resources open (on the read pool)."""
DEFAULT_LIMIT: Final = 20

SearchIndexDep: TypeAlias = NamedDependency[SkipValidation[SearchIndex]]
"""``search_index``: the search index, read outside any transaction (provided by the bootstrap)."""

# the last hit's rank (a float4: finite, at most float4's largest) and id
_Position = tuple[Annotated[float, msgspec.Meta(ge=0.0, le=3.0e38)], UUID]


def _provide_search_index(state: State) -> SearchIndex:
    index: SearchIndex = state[SEARCH_INDEX]
    return index


def search_dependencies() -> Mapping[str, Provide]:
    return {"search_index": Provide(_provide_search_index, sync_to_thread=False)}


@get(
    "/api/v1/search",
    operation_id="search",
    summary="Search my conversations and messages",
    tags=["search"],
    security=BEARER_SECURITY,
    responses=problem_responses(400, 401),
)
async def search(
    principal: CurrentPrincipal,
    search_index: SearchIndexDep,
    q: Annotated[
        str,
        QueryParameter(
            min_length=1,
            max_length=use_cases.MAX_QUERY_CHARS,
            pattern=NO_NUL,
            description=(
                "What to look for, as in a web search: words (matched by their stem: `running`"
                ' finds "run"), `"a quoted phrase"`, `-word` to exclude, `or` between alternatives.'
                f" 1 to {use_cases.MAX_QUERY_CHARS} characters; control characters count as spaces (NUL is"
                " refused)."
                " A query with no searchable word (only stop words such as `the`, or punctuation)"
                " finds nothing: an empty page."
            ),
        ),
    ],
    archived: Annotated[
        bool | None,
        QueryParameter(
            description="`true`: only in archived conversations; `false`: only in the others; absent: both."
        ),
    ] = None,
    cursor: Annotated[
        str | None,
        QueryParameter(
            max_length=MAX_CURSOR_LENGTH,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="From the previous page's `next_cursor` (with the same `q` and `archived`).",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        QueryParameter(
            ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT} ({DEFAULT_LIMIT} if absent)."
        ),
    ] = None,
) -> Page[SearchHitResponse]:
    """The titles of my conversations and the contents of my messages that match `q`, best first
    (PostgreSQL full-text search, English stemming, ranked by cover density), each with a
    highlighted snippet and the conversation it belongs to. Archived conversations are searched
    too unless `archived` says otherwise; a reply still waiting for its first token is not. One
    page, with the cursor of the next (`null` on the last)."""
    after = None
    if cursor is not None:
        rank, hit_id = decode_cursor(cursor, _Position)
        after = SearchPosition(rank, hit_id)
    found = await use_cases.search(
        use_cases.Search(
            owner_id=principal.user_id,
            text=q,
            limit=limit or DEFAULT_LIMIT,
            after=after,
            archived=archived,
        ),
        search_index,
    )
    last = found.hits[-1].position if found.more else None
    return Page(
        items=[SearchHitResponse.of(hit) for hit in found.hits],
        next_cursor=None if last is None else encode_cursor((last.rank, last.id)),
    )
