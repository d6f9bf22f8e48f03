"""Request and response bodies of reading messages and switching branch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from chat.application.conversations import Branch, BranchMessage


class UsageResponse(msgspec.Struct, frozen=True, kw_only=True):
    prompt_tokens: Annotated[int, msgspec.Meta(description="Tokens the model read (assistant replies).")]
    completion_tokens: Annotated[int, msgspec.Meta(description="Tokens the model wrote (assistant replies).")]


class MessageResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    conversation_id: UUID
    parent_id: Annotated[UUID | None, msgspec.Meta(description="null: the conversation's first message.")]
    sender: Literal["user", "assistant"]
    content: Annotated[str, msgspec.Meta(description="A reply's content so far while it is written.")]
    status: Annotated[
        Literal["pending", "streaming", "completed", "stopped", "failed"],
        msgspec.Meta(
            description="`pending`/`streaming`: still being written; "
            "a stopped or failed reply keeps its partial content."
        ),
    ]
    model_id: Annotated[
        UUID | None, msgspec.Meta(description="The model that wrote a reply (null for a user message).")
    ]
    metadata: Annotated[
        dict[str, Any], msgspec.Meta(description="Extra facts (`error`: why a reply failed).")
    ]
    usage: UsageResponse
    created_at: datetime
    finished_at: Annotated[
        datetime | None,
        msgspec.Meta(description="When a reply finished (null: in flight, or a user message)."),
    ]
    sibling_ids: Annotated[
        list[UUID],
        msgspec.Meta(
            description="The alternatives at this place in the tree (edits, regenerations), "
            "itself included, oldest first."
        ),
    ]
    sibling_index: Annotated[int, msgspec.Meta(description="This message's index in `sibling_ids`.")]

    @classmethod
    def of(cls, step: BranchMessage) -> MessageResponse:
        message = step.message
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            parent_id=message.parent_id,
            sender=message.sender,
            content=message.content,
            status=message.status,
            model_id=message.model_id,
            metadata=message.metadata,
            usage=UsageResponse(
                prompt_tokens=message.usage.prompt_tokens, completion_tokens=message.usage.completion_tokens
            ),
            created_at=message.created_at,
            finished_at=message.finished_at,
            sibling_ids=step.sibling_ids,
            sibling_index=step.sibling_index,
        )


class BranchResponse(msgspec.Struct, frozen=True, kw_only=True):
    conversation_id: UUID
    leaf_id: Annotated[
        UUID | None, msgspec.Meta(description="The branch's last message (null: no messages).")
    ]
    selected_leaf_id: Annotated[
        UUID | None, msgspec.Meta(description="The conversation's remembered branch (its last message).")
    ]
    items: Annotated[
        list[MessageResponse], msgspec.Meta(description="From the first message down to `leaf_id`.")
    ]

    @classmethod
    def of(cls, branch: Branch) -> BranchResponse:
        return cls(
            conversation_id=branch.conversation.id,
            leaf_id=branch.leaf_id,
            selected_leaf_id=branch.conversation.selected_leaf_id,
            items=[MessageResponse.of(step) for step in branch.messages],
        )


class BranchSelect(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    leaf_id: Annotated[
        UUID,
        msgspec.Meta(
            description="A message of this conversation: the branch through it, "
            "down to its newest leaf, is selected."
        ),
    ]
