"""Request and response bodies of ``/conversations``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from chat.domain.conversations import TITLE_MAX, Conversation

Title = Annotated[
    str,
    msgspec.Meta(
        max_length=TITLE_MAX,
        description=f"What the conversation is called (up to {TITLE_MAX} characters; runs of "
        "white space become one space).",
    ),
]
ModelId = Annotated[
    UUID,
    msgspec.Meta(description="The AI model that writes the replies, from the model registry."),
]
ProjectLink = Annotated[
    UUID, msgspec.Meta(description="One of my projects (in the orchestrator) the conversation is about.")
]
TaskLink = Annotated[
    UUID,
    msgspec.Meta(
        description="One of my tasks the conversation is about; given alone, its project is linked too."
    ),
]


class ConversationCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: (
        Annotated[
            Title,
            msgspec.Meta(description="Absent, null or blank: the model titles it after the first exchange."),
        ]
        | None
    ) = None
    model_id: Annotated[ModelId, msgspec.Meta(description="Absent or null: the default model.")] | None = None
    project_id: ProjectLink | None = None
    task_id: TaskLink | None = None


class ConversationUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Absent fields stay as they are."""

    # Meta inside the union: Litestar documents an outer Meta's description only, not Title's limits
    title: (
        Annotated[
            Title, msgspec.Meta(min_length=1, description="A new title (never overwritten by the model).")
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    model_id: (
        Annotated[ModelId, msgspec.Meta(description="Another model; null: the default model.")]
        | msgspec.UnsetType
        | None
    ) = msgspec.UNSET
    pinned: (
        Annotated[bool, msgspec.Meta(description="Pinned conversations can be listed apart.")]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    archived: (
        Annotated[bool, msgspec.Meta(description="Archived conversations leave the default list.")]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    project_id: (
        Annotated[
            ProjectLink,
            msgspec.Meta(
                description="Another project; null unlinks the project and its task. "
                "A linked task not in the new project is unlinked."
            ),
        ]
        | msgspec.UnsetType
        | None
    ) = msgspec.UNSET
    task_id: (
        Annotated[
            TaskLink,
            msgspec.Meta(
                description="Another task (of `project_id` when given); null unlinks the task only."
            ),
        ]
        | msgspec.UnsetType
        | None
    ) = msgspec.UNSET


class ConversationResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    title: Annotated[str, msgspec.Meta(description="Empty until the user or the model titles it.")]
    title_source: Annotated[
        Literal["none", "user", "auto"],
        msgspec.Meta(description="Who set the title: nobody yet, the user, or the model (`auto`)."),
    ]
    model_id: Annotated[UUID | None, msgspec.Meta(description="null: the default model at each reply.")]
    project_id: UUID | None
    task_id: UUID | None
    pinned: bool
    archived: bool
    messages_count: Annotated[int, msgspec.Meta(description="Messages in every branch.")]
    selected_leaf_id: Annotated[
        UUID | None, msgspec.Meta(description="The last message of the branch shown (null: no messages).")
    ]
    created_at: datetime
    last_activity_at: Annotated[
        datetime, msgspec.Meta(description="When a message was last added: the list's order.")
    ]

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationResponse:
        return cls(
            id=conversation.id,
            title=conversation.title,
            title_source=conversation.title_source,
            model_id=conversation.model_id,
            project_id=conversation.project_id,
            task_id=conversation.task_id,
            pinned=conversation.pinned,
            archived=conversation.archived,
            messages_count=conversation.messages_count,
            selected_leaf_id=conversation.selected_leaf_id,
            created_at=conversation.created_at,
            last_activity_at=conversation.last_activity_at,
        )
