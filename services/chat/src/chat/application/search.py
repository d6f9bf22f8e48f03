"""Searching a user's conversations: titles and message contents, ranked, one page at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from chat.application.ports.search import SearchHit, SearchIndex, SearchPosition
from shared.kernel.errors import InvalidInput

MAX_QUERY_CHARS: Final = 200
# C0 and C1 controls and DEL: no searchable word contains one; they separate words, as spaces do
_CONTROLS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Search:
    owner_id: UUID
    text: str
    """Web-search syntax: words (stemmed: "running" finds "run"), "a phrase", -excluded, or."""
    limit: int
    after: SearchPosition | None = None
    archived: bool | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    more: bool
    """Hits follow the last of ``hits`` (ask again with ``after=hits[-1].position``)."""


async def search(query: Search, index: SearchIndex) -> SearchPage:
    """The owner's hits for ``query.text``, best first: the titles of their conversations and the
    contents of their messages (a reply being generated is found by what it has streamed so far,
    a pending one not yet), in archived conversations too unless ``archived`` says otherwise.

    Control characters count as spaces; a query with no searchable word left (blank, stop
    words only, punctuation) is an empty page, not an error.

    Raises:
        InvalidInput: the query is longer than :data:`MAX_QUERY_CHARS`, or the limit below 1.
    """
    if len(query.text) > MAX_QUERY_CHARS:
        raise InvalidInput(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    if query.limit < 1:
        raise InvalidInput("The page size must be at least 1.")
    text = _CONTROLS.sub(" ", query.text).strip()
    if not text:
        return SearchPage(hits=[], more=False)
    found = await index.search(
        query.owner_id, text, archived=query.archived, after=query.after, limit=query.limit + 1
    )
    return SearchPage(hits=found[: query.limit], more=len(found) > query.limit)
