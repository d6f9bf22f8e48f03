"""A conversation: one user's chat with a model, and the owner of its message tree.

The conversation remembers the selected leaf: posting, editing and regenerating all select
the message they add, and reading it returns the path from the root down to that leaf. It
adds every message (so ``messages_count`` and ``last_activity_at`` stay true) and checks the
tree's shape; each :class:`~chat.domain.messages.Message` then keeps its own status rules.
Its events carry ids, owner, title and links: never message content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal
from uuid import UUID

from chat.domain.events import DomainEvent
from chat.domain.messages import Message, Sender, ensure_content
from shared.kernel.aggregate import Aggregate
from shared.kernel.errors import Conflict, InvalidInput

TITLE_MAX: Final = 200
"""The longest title a user may set."""
AUTO_TITLE_MAX: Final = 60
"""The longest title the model may write; longer ones are cut at a word."""
TitleSource = Literal["none", "user", "auto"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationEvent(DomainEvent):
    """A conversation as it is after the change: ids, owner, title and links (never messages)."""

    conversation_id: UUID
    owner_id: UUID
    title: str
    project_id: UUID | None
    task_id: UUID | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationCreated(ConversationEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationUpdated(ConversationEvent):
    """Title, model, pin or archive changed; the event states them as they are now."""

    pinned: bool
    archived: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationDeleted(ConversationEvent):
    pass


@dataclass(slots=True, kw_only=True)
class Conversation(Aggregate[DomainEvent]):
    id: UUID
    owner_id: UUID
    title: str = ""
    title_source: TitleSource = "none"
    model_id: UUID | None = None
    """``None``: the default model at the time of each reply."""
    project_id: UUID | None = None
    task_id: UUID | None = None
    pinned: bool = False
    archived: bool = False
    messages_count: int = 0
    selected_leaf_id: UUID | None = None
    created_at: datetime
    last_activity_at: datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        owner_id: UUID,
        now: datetime,
        title: str | None = None,
        model_id: UUID | None = None,
        project_id: UUID | None = None,
        task_id: UUID | None = None,
    ) -> Conversation:
        """The links are checked by the caller (the ownership replica): the domain only keeps them."""
        conversation = cls(
            id=id,
            owner_id=owner_id,
            model_id=model_id,
            project_id=project_id,
            task_id=task_id,
            created_at=now,
            last_activity_at=now,
        )
        if title is not None and title.strip():
            conversation.title, conversation.title_source = _user_title(title), "user"
        conversation.record(
            ConversationCreated(
                occurred_at=now,
                conversation_id=id,
                owner_id=owner_id,
                title=conversation.title,
                project_id=project_id,
                task_id=task_id,
                created_at=now,
            )
        )
        return conversation

    # --- settings -------------------------------------------------------------------------

    def rename(self, title: str, now: datetime) -> None:
        """A user-set title; the model never overwrites it."""
        self.title, self.title_source = _user_title(title), "user"
        self._updated(now)

    @property
    def wants_auto_title(self) -> bool:
        """No title yet and a first exchange to summarize (a user message and its reply)."""
        return self.title_source == "none" and self.messages_count >= 2

    def auto_title(self, title: str, now: datetime) -> bool:
        """The model's title, cut to :data:`AUTO_TITLE_MAX`; ignored (``False``) when the user
        set one meanwhile or the model wrote nothing usable."""
        cleaned = _shorten(" ".join(title.split()).strip("\"'` "), AUTO_TITLE_MAX)
        if self.title_source == "user" or not cleaned:
            return False
        self.title, self.title_source = cleaned, "auto"
        self._updated(now)
        return True

    def change_model(self, model_id: UUID | None, now: datetime) -> None:
        if model_id != self.model_id:
            self.model_id = model_id
            self._updated(now)

    def link(self, *, project_id: UUID | None, task_id: UUID | None, now: datetime) -> None:
        """Links the conversation to a project and optionally one of its tasks (``None``:
        unlinked). The caller checked the links against the ownership replica; the domain keeps
        only the shape: a task link needs its project."""
        if task_id is not None and project_id is None:
            raise InvalidInput("a task link needs the task's project")
        if (project_id, task_id) != (self.project_id, self.task_id):
            self.project_id, self.task_id = project_id, task_id
            self._updated(now)

    def pin(self, pinned: bool, now: datetime) -> None:
        if pinned != self.pinned:
            self.pinned = pinned
            self._updated(now)

    def archive(self, archived: bool, now: datetime) -> None:
        if archived != self.archived:
            self.archived = archived
            self._updated(now)

    def delete(self, now: datetime) -> None:
        self.record(
            ConversationDeleted(
                occurred_at=now,
                conversation_id=self.id,
                owner_id=self.owner_id,
                title=self.title,
                project_id=self.project_id,
                task_id=self.task_id,
                created_at=self.created_at,
            )
        )

    # --- the message tree -----------------------------------------------------------------

    def post(self, *, id: UUID, content: str, parent: Message | None, now: datetime) -> Message:
        """A user message under ``parent``: the caller passes the selected leaf (or the parent
        the client named). ``None`` starts the root, only in an empty conversation (another
        root is an :meth:`edit` of the first message). It goes under an assistant reply that
        is no longer in flight."""
        if parent is None and self.messages_count:
            raise Conflict("a conversation has one first message: post under a reply or edit it")
        if parent is not None:
            self._ensure_mine(parent)
            if parent.sender != "assistant":
                raise Conflict("a user message follows an assistant reply, not another user message")
            if parent.in_flight:
                raise Conflict(f"message {parent.id} is still being written: stop it or wait")
        return self._add(
            id=id, parent_id=parent.id if parent else None, sender="user", content=content, now=now
        )

    def start_reply(self, *, id: UUID, to: Message, now: datetime) -> Message:
        """A pending assistant reply under the user message ``to``, written by the
        conversation's model (``model_id`` ``None``: the default one)."""
        self._ensure_mine(to)
        if to.sender != "user":
            raise Conflict("an assistant reply answers a user message, not another reply")
        return self._add(id=id, parent_id=to.id, sender="assistant", content="", now=now)

    def edit(self, *, id: UUID, original: Message, content: str, now: datetime) -> Message:
        """Editing a user message adds a sibling branch (same parent) and selects it; the
        original and its replies stay, reachable through :func:`siblings_of`."""
        self._ensure_mine(original)
        if original.sender != "user":
            raise Conflict("only a user message can be edited; regenerate an assistant reply")
        return self._add(id=id, parent_id=original.parent_id, sender="user", content=content, now=now)

    def regenerate(self, *, id: UUID, original: Message, now: datetime) -> Message:
        """A new pending assistant reply beside ``original`` (same user message), selected.
        Works on a completed, stopped or failed reply, not on one still in flight."""
        self._ensure_mine(original)
        if original.sender != "assistant" or original.parent_id is None:
            raise Conflict("only an assistant reply can be regenerated")
        if original.in_flight:
            raise Conflict(f"message {original.id} is still being written: stop it first")
        return self._add(id=id, parent_id=original.parent_id, sender="assistant", content="", now=now)

    def select(self, leaf_id: UUID) -> None:
        """Switch branch: the caller resolves the leaf (:func:`newest_leaf_under`) among this
        conversation's messages."""
        self.selected_leaf_id = leaf_id

    def _add(
        self, *, id: UUID, parent_id: UUID | None, sender: Sender, content: str, now: datetime
    ) -> Message:
        assistant = sender == "assistant"
        message = Message(
            id=id,
            conversation_id=self.id,
            owner_id=self.owner_id,
            parent_id=parent_id,
            sender=sender,
            content="" if assistant else ensure_content(content),
            status="pending" if assistant else "completed",
            model_id=self.model_id if assistant else None,
            created_at=now,
        )
        self.messages_count += 1
        self.selected_leaf_id = id
        self.last_activity_at = now
        return message

    def _ensure_mine(self, message: Message) -> None:
        if message.conversation_id != self.id:
            raise InvalidInput(f"message {message.id} is not in conversation {self.id}")

    def _updated(self, now: datetime) -> None:
        # Settings do not count as activity: pinning or renaming must not reorder the list.
        self.record(
            ConversationUpdated(
                occurred_at=now,
                conversation_id=self.id,
                owner_id=self.owner_id,
                title=self.title,
                project_id=self.project_id,
                task_id=self.task_id,
                created_at=self.created_at,
                pinned=self.pinned,
                archived=self.archived,
            )
        )


def _user_title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise InvalidInput("a title needs some text")
    if len(cleaned) > TITLE_MAX:
        raise InvalidInput(f"a title is at most {TITLE_MAX} characters")
    return cleaned


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:.-") + "…"
