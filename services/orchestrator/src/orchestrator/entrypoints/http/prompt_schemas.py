"""Request and response bodies of ``/prompts`` and ``/projects/{id}/prompts``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from orchestrator.application.ports.prompts import LineageSummary
from orchestrator.application.prompts import Diff, Versioned
from orchestrator.domain.prompts import MAX_CONTENT, MAX_TITLE, Prompt, PromptLineage

Title = Annotated[
    str, msgspec.Meta(min_length=1, max_length=MAX_TITLE, description="What the prompt is for.")
]
Content = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_CONTENT,
        description=f"The prompt's text (up to {MAX_CONTENT} characters).",
    ),
]
Version = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1, description="A version number of this prompt.")]
Labels = Annotated[
    dict[str, int],
    msgspec.Meta(description="Label name → the version it points at (`current` always exists)."),
]


class PromptCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Title
    content: Content


class PromptGenerate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    interview_id: Annotated[UUID, msgspec.Meta(description="A completed interview of this project.")]
    # Meta inside the union: Litestar documents an outer Meta's description only, not Title's limits
    title: Annotated[Title, msgspec.Meta(description="The title to give it; absent: the model's.")] | None = (
        None
    )


class PromptEdit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    content: Content
    title: (
        Annotated[Title, msgspec.Meta(description="A new title; absent keeps the edited version's.")] | None
    ) = None


class LabelMove(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: Version


class PromptResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: Annotated[UUID, msgspec.Meta(description="This version's own id.")]
    lineage_id: Annotated[
        UUID, msgspec.Meta(description="The prompt's id: its version 1's, shared by all its versions.")
    ]
    project_id: UUID
    version: int
    parent_id: Annotated[UUID | None, msgspec.Meta(description="The version this one was edited from.")]
    title: str
    content: str
    labels: Annotated[list[str], msgspec.Meta(description="The labels pointing at this version.")]
    latest_version: Annotated[int, msgspec.Meta(description="The prompt's newest version number.")]
    interview_id: Annotated[UUID | None, msgspec.Meta(description="The interview it was generated from.")]
    model: Annotated[str | None, msgspec.Meta(description="The model that wrote it, if one did.")]
    created_by: UUID
    created_at: datetime

    @classmethod
    def of(cls, versioned: Versioned) -> PromptResponse:
        p, lineage = versioned.prompt, versioned.lineage
        return cls(
            id=p.id,
            lineage_id=p.lineage_id,
            project_id=p.project_id,
            version=p.version,
            parent_id=p.parent_id,
            title=p.title,
            content=p.content,
            labels=list(lineage.labels_of(p.version)),
            latest_version=lineage.latest_version,
            interview_id=p.interview_id,
            model=p.model,
            created_by=p.created_by,
            created_at=p.created_at,
        )


class PromptVersionItem(msgspec.Struct, frozen=True, kw_only=True):
    """A version in a list: everything but its text."""

    id: UUID
    version: int
    parent_id: UUID | None
    title: str
    content_length: Annotated[int, msgspec.Meta(description="Characters in its text.")]
    labels: list[str]
    model: str | None
    created_by: UUID
    created_at: datetime

    @classmethod
    def of(cls, p: Prompt, lineage: PromptLineage) -> PromptVersionItem:
        return cls(
            id=p.id,
            version=p.version,
            parent_id=p.parent_id,
            title=p.title,
            content_length=len(p.content),
            labels=list(lineage.labels_of(p.version)),
            model=p.model,
            created_by=p.created_by,
            created_at=p.created_at,
        )


class PromptSummary(msgspec.Struct, frozen=True, kw_only=True):
    lineage_id: UUID
    project_id: UUID
    labels: Labels
    latest: Annotated[PromptVersionItem, msgspec.Meta(description="Its newest version.")]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, summary: LineageSummary) -> PromptSummary:
        lineage = summary.lineage
        return cls(
            lineage_id=lineage.id,
            project_id=lineage.project_id,
            labels=dict(lineage.labels),
            latest=PromptVersionItem.of(summary.latest, lineage),
            created_at=lineage.created_at,
            updated_at=lineage.updated_at,
        )


class LabelsResponse(msgspec.Struct, frozen=True, kw_only=True):
    lineage_id: UUID
    labels: Labels
    latest_version: int

    @classmethod
    def of(cls, lineage: PromptLineage) -> LabelsResponse:
        return cls(lineage_id=lineage.id, labels=dict(lineage.labels), latest_version=lineage.latest_version)


class DiffResponse(msgspec.Struct, frozen=True, kw_only=True):
    lineage_id: UUID
    from_version: int
    to_version: int
    from_id: UUID
    to_id: UUID
    diff: Annotated[
        str, msgspec.Meta(description="The unified diff (`diff -u`); empty when the texts are equal.")
    ]
    added: Annotated[int, msgspec.Meta(description="Lines added.")]
    removed: Annotated[int, msgspec.Meta(description="Lines removed.")]

    @classmethod
    def of(cls, diff: Diff) -> DiffResponse:
        body = diff.text.splitlines()[2:]  # after the ---/+++ header
        return cls(
            lineage_id=diff.old.lineage_id,
            from_version=diff.old.version,
            to_version=diff.new.version,
            from_id=diff.old.id,
            to_id=diff.new.id,
            diff=diff.text,
            added=sum(1 for line in body if line.startswith("+")),
            removed=sum(1 for line in body if line.startswith("-")),
        )
