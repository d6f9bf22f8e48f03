"""Full-text search over a user's conversation titles and message contents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, Protocol
from uuid import UUID

HitKind = Literal["title", "message"]

MARK_START: Final = "\u27e6"
"""Opens a matched word in a hit's snippet (⟦: not a character chat text or HTML holds by chance)."""
MARK_STOP: Final = "\u27e7"
"""Closes a matched word in a hit's snippet (⟧)."""


@dataclass(frozen=True, slots=True)
class SearchPosition:
    """Where a page of hits ends: the last hit's rank (as the database computed it, a float4)
    and its id. The next page holds the hits strictly after it in (rank desc, id desc) order."""

    rank: float
    id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit:
    kind: HitKind
    id: UUID
    """The message's id for a message hit, the conversation's for a title hit."""
    conversation_id: UUID
    conversation_title: str
    message_id: UUID | None
    snippet: str
    """The matching text with each matched word between :data:`MARK_START` and :data:`MARK_STOP`."""
    created_at: datetime
    rank: float

    @property
    def position(self) -> SearchPosition:
        return SearchPosition(self.rank, self.id)


class SearchIndex(Protocol):
    """The search index of every conversation, kept in sync by the writes' own transactions.

    Not transactional: one statement, outside any transaction (it sees one committed snapshot).
    Owner-scoped: hits come only from ``owner_id``'s conversations and messages; a message still
    ``pending`` (no content yet) is never a hit.
    """

    async def search(
        self,
        owner_id: UUID,
        text: str,
        *,
        archived: bool | None,
        after: SearchPosition | None,
        limit: int,
    ) -> list[SearchHit]:
        """At most ``limit`` hits for the web-search style query ``text`` (words, "phrases",
        -exclusions, or), best first (rank desc, then id desc), strictly after ``after``.

        ``archived``: only hits in archived (``True``) or in active (``False``) conversations;
        ``None``: both. A query without a searchable word (stop words, punctuation) has no hit.
        """
        ...
