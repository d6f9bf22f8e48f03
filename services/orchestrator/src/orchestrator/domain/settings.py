"""System settings: a registry of known settings in code, and the values admins chose.

Rules:
* only settings the registry knows exist; each has a type, a default, limits, and is
  public (every user may read it) or admin-only;
* a change is all or nothing: every invalid value is reported at once, and none applies;
* secrets are never settings (values travel in events and the audit trail).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal
from uuid import UUID

from orchestrator.domain.events import DomainEvent
from shared.kernel.aggregate import Aggregate
from shared.kernel.errors import InvalidInput

SettingType = Literal["integer", "number", "boolean", "string", "uuid"]
Value = int | float | bool | str | None
"""As JSON carries it: a ``uuid`` setting's value is its text."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingSpec:
    name: str
    type: SettingType
    default: Value
    description: str
    public: bool
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False

    def problem(self, value: Value) -> str | None:
        """Why ``value`` cannot be this setting's value; ``None`` when it can."""
        if value is None:
            return None if self.nullable else "must not be null"
        if self.type in ("integer", "number"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"must be a{'n integer' if self.type == 'integer' else ' number'}"
            if self.type == "integer" and not (isinstance(value, int) or value.is_integer()):
                return "must be an integer"  # 5.0 is one: JSON (and JSON Schema) make no difference
            if self.minimum is not None and value < self.minimum:
                return f"must be at least {_number(self.minimum)}"
            if self.maximum is not None and value > self.maximum:
                return f"must be at most {_number(self.maximum)}"
            return None
        if self.type == "boolean":
            return None if isinstance(value, bool) else "must be true or false"
        if not isinstance(value, str):
            return f"must be a{' uuid' if self.type == 'uuid' else ' string'}"
        if self.type == "uuid":
            try:
                UUID(value)
            except ValueError:
                return "must be a uuid"
            return None
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        return None


def _number(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def _spec(*specs: SettingSpec) -> Mapping[str, SettingSpec]:
    return {spec.name: spec for spec in specs}


REGISTRY: Final[Mapping[str, SettingSpec]] = _spec(
    SettingSpec(
        name="default_model_id",
        type="uuid",
        default=None,
        nullable=True,
        public=True,
        description="The AI model used when a request names none (an enabled model's id); "
        "null: the registry's default model, else the built-in offline model.",
    ),
    SettingSpec(
        name="chat.budget.messages_per_window",
        type="integer",
        default=200,
        minimum=1,
        maximum=100_000,
        public=True,
        description="Messages one user may send to AI models per budget window.",
    ),
    SettingSpec(
        name="chat.budget.tokens_per_window",
        type="integer",
        default=200_000,
        minimum=100,
        maximum=100_000_000,
        public=True,
        description="Model tokens (prompt and completion) one user may spend per budget window.",
    ),
    SettingSpec(
        name="chat.budget.window_seconds",
        type="integer",
        default=86_400,
        minimum=60,
        maximum=2_592_000,
        public=True,
        description="Length of the budget window, in seconds (one minute to 30 days).",
    ),
    SettingSpec(
        name="chat.max_message_chars",
        type="integer",
        default=32_000,
        minimum=1,
        maximum=200_000,
        public=True,
        description="The longest chat message a user may send, in characters.",
    ),
    SettingSpec(
        name="chat.attachments.max_image_bytes",
        type="integer",
        default=10_485_760,
        minimum=1_024,
        maximum=104_857_600,
        public=True,
        description="The largest image a user may attach to a chat message, in bytes (1 KiB to 100 MiB).",
    ),
    SettingSpec(
        name="chat.attachments.max_audio_bytes",
        type="integer",
        default=26_214_400,
        minimum=1_024,
        maximum=524_288_000,
        public=True,
        description="The largest audio recording a user may attach to a chat message, in bytes "
        "(1 KiB to 500 MiB).",
    ),
    SettingSpec(
        name="chat.attachments.max_document_bytes",
        type="integer",
        default=10_485_760,
        minimum=1_024,
        maximum=104_857_600,
        public=True,
        description="The largest document a user may attach to a chat message, in bytes (1 KiB to 100 MiB).",
    ),
    SettingSpec(
        name="chat.attachments.max_bytes_per_user",
        type="integer",
        default=524_288_000,
        minimum=1_048_576,
        maximum=1_099_511_627_776,
        public=True,
        description="The bytes of attachments one user may keep in all, in bytes (1 MiB to 1 TiB).",
    ),
    SettingSpec(
        name="interview.max_questions",
        type="integer",
        default=12,
        minimum=1,
        maximum=50,
        public=True,
        description="Questions the AI interviewer asks at most before it completes the interview.",
    ),
    SettingSpec(
        name="tasks.generate.max_tasks",
        type="integer",
        default=30,
        minimum=1,
        maximum=200,
        public=True,
        description="Tasks one generation from a prompt may create at most.",
    ),
    SettingSpec(
        name="ai.request_timeout_s",
        type="integer",
        default=120,
        minimum=1,
        maximum=600,
        public=False,
        description="Seconds one AI model call may take in total before it fails with a timeout.",
    ),
    SettingSpec(
        name="ai.max_output_tokens",
        type="integer",
        default=2_048,
        minimum=16,
        maximum=32_768,
        public=False,
        description="Tokens one AI model answer may have at most (a model's own parameters may lower it).",
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingChange:
    name: str
    old: Value
    new: Value


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsChanged(DomainEvent):
    actor_id: UUID
    changes: tuple[SettingChange, ...]


class InvalidSettings(InvalidInput):
    """Some of the values asked for are invalid; ``errors`` names each (setting, why)."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in errors))
        self.errors = list(errors)


@dataclass(slots=True, kw_only=True)
class SystemSettings(Aggregate[DomainEvent]):
    """The values set by admins (``overrides``); every other setting has its default."""

    overrides: dict[str, Value] = field(default_factory=dict)
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    def value(self, name: str) -> Value:
        return self.overrides.get(name, REGISTRY[name].default)

    def is_set(self, name: str) -> bool:
        return name in self.overrides

    def change(
        self,
        values: Mapping[str, Value],
        *,
        reset: Sequence[str] = (),
        actor_id: UUID,
        now: datetime,
        extra_problems: Mapping[str, str] | None = None,
    ) -> list[SettingChange]:
        """Sets ``values`` and puts the ``reset`` ones back to their default, all or nothing.

        ``extra_problems`` are the refusals of rules the registry cannot check alone (an
        unknown model id, say), reported with the others. Answers what really changed.

        Raises:
            InvalidSettings: listing every unknown name and invalid value.
        """
        errors = [(name, "no such setting") for name in [*values, *reset] if name not in REGISTRY]
        errors += [(name, "is both set and reset") for name in reset if name in values]
        errors += [
            (name, why)
            for name, value in values.items()
            if name in REGISTRY and (why := REGISTRY[name].problem(value)) is not None
        ]
        errors += [(name, why) for name, why in (extra_problems or {}).items()]
        if errors:
            raise InvalidSettings(sorted(set(errors)))
        changes: list[SettingChange] = []
        for name in reset:
            if name in self.overrides:
                old = self.overrides.pop(name)
                if old != REGISTRY[name].default:
                    changes.append(SettingChange(name=name, old=old, new=REGISTRY[name].default))
        for name, value in values.items():
            old = self.value(name)
            self.overrides[name] = _normalized(REGISTRY[name], value)
            if old != self.overrides[name]:
                changes.append(SettingChange(name=name, old=old, new=self.overrides[name]))
        if changes:
            self.record(SettingsChanged(occurred_at=now, actor_id=actor_id, changes=tuple(changes)))
        return changes


def _normalized(spec: SettingSpec, value: Value) -> Value:
    if spec.type == "number" and isinstance(value, int):
        return float(value)
    if spec.type == "integer" and isinstance(value, float):
        return int(value)
    if spec.type == "uuid" and isinstance(value, str):
        return str(UUID(value))
    return value
