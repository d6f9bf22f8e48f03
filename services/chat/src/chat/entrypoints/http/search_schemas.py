"""Response bodies of ``/search``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from chat.application.ports.search import MARK_START, MARK_STOP, SearchHit


class SearchHitResponse(msgspec.Struct, frozen=True, kw_only=True):
    kind: Annotated[
        Literal["title", "message"],
        msgspec.Meta(
            description="`title`: the conversation's title matched; `message`: a message's content."
        ),
    ]
    conversation_id: UUID
    conversation_title: Annotated[str, msgspec.Meta(description="The conversation's title as it is now.")]
    message_id: Annotated[
        UUID | None, msgspec.Meta(description="The message that matched; `null` for a title hit.")
    ]
    snippet: Annotated[
        str,
        msgspec.Meta(
            description=(
                f"The matching text, plain (not HTML, not escaped), each matched word between"
                f" `{MARK_START}` (U+27E6) and `{MARK_STOP}` (U+27E7). A message's snippet is up to two"
                " fragments of its content around the matches, joined by ` … `; a title's is the whole"
                " title."
            )
        ),
    ]
    created_at: Annotated[
        datetime, msgspec.Meta(description="When the message (or conversation) was created.")
    ]
    rank: Annotated[
        float,
        msgspec.Meta(
            description=(
                "Relevance (PostgreSQL's `ts_rank_cd`, cover density): higher is better, best first."
            )
        ),
    ]

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitResponse:
        return cls(
            kind=hit.kind,
            conversation_id=hit.conversation_id,
            conversation_title=hit.conversation_title,
            message_id=hit.message_id,
            snippet=hit.snippet,
            created_at=hit.created_at,
            rank=hit.rank,
        )
