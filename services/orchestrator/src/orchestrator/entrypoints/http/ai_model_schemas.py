"""Request and response bodies of ``/ai-models``. A response shows an API key only masked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

import msgspec

from orchestrator.application.model_checks import ModelCheck
from orchestrator.domain.ai_models import AIModel, Provider

PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
STOP_LENGTH: Final = 32
STOP_ITEMS: Final = {"type": "string", "minLength": 1, "maxLength": STOP_LENGTH}


def minimum(value: float, *, exclusive: bool = False) -> dict[str, Any]:
    """A lower bound of 0 for the OpenAPI document: Litestar drops a falsy ``ge``/``gt`` (msgspec still
    enforces it), so the document states it through ``schema_extra``."""
    key = "exclusive_minimum" if exclusive else "minimum"
    return {"extra_json_schema": {"extra": {key: value}}}


Name = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=100,
        pattern=PRINTABLE,
        description="What admins and users pick the model by; unique.",
        examples=["gpt-4o-mini"],
    ),
]
ProviderField = Annotated[
    Provider,
    msgspec.Meta(
        description="How it is called: an OpenAI-compatible API, Ollama, the built-in offline model, "
        "or the local llama.cpp server."
    ),
]
BaseUrl = Annotated[
    str,
    msgspec.Meta(
        max_length=2000,
        pattern=r"^https?://[^\x00-\x20\x7f/?#@]+(:[0-9]{1,5})?(/[^\x00-\x20\x7f]*)?$",
        description="The provider's API root, an http(s) URL (`https://api.openai.com/v1`, "
        "`http://127.0.0.1:11434`); needed by every provider but offline.",
    ),
]
ModelName = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=200, pattern=PRINTABLE, description="The model's name at its provider."
    ),
]
ApiKey = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=500,
        pattern=r"^[\x21-\x7e]+$",
        description="The provider's API key (printable ASCII, no spaces). Write-only: stored encrypted, "
        "answered only masked.",
    ),
]


class ModelParameters(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Defaults every request to the model gets (a request's own values win)."""

    temperature: (
        Annotated[float, msgspec.Meta(ge=0, le=2, description="Sampling temperature.", **minimum(0))] | None
    ) = None
    top_p: (
        Annotated[
            float,
            msgspec.Meta(gt=0, le=1, description="Nucleus sampling mass.", **minimum(0, exclusive=True)),
        ]
        | None
    ) = None
    max_tokens: (
        Annotated[int, msgspec.Meta(ge=1, le=32_768, description="Longest answer, in tokens.")] | None
    ) = None
    seed: (
        Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1, description="For repeatable sampling.", **minimum(0))]
        | None
    ) = None
    stop: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=STOP_LENGTH)]],
        msgspec.Meta(
            max_length=4,
            description=f"Strings that end the answer (1 to {STOP_LENGTH} characters each).",
            extra_json_schema={"extra": {"items": STOP_ITEMS}},
        ),
    ] = []
    vision: (
        Annotated[
            bool,
            msgspec.Meta(description="It takes images: chat sends image attachments to it as content parts."),
        ]
        | None
    ) = None
    audio_input: (
        Annotated[
            bool,
            msgspec.Meta(
                description="It takes audio (wav, mp3): chat sends audio attachments as `input_audio`."
            ),
        ]
        | None
    ) = None
    transcription_model: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=100,
                pattern=r"^[\x21-\x7e]+$",
                description="For a model that takes no audio: the provider's speech-to-text model (e.g. "
                "`whisper-1`) chat transcribes audio attachments with, at the same base URL and key "
                "(OpenAI-compatible providers: openai, local).",
            ),
        ]
        | None
    ) = None


Parameters = Annotated[
    ModelParameters,
    msgspec.Meta(description="Defaults every request to the model gets (a request's own win)."),
]


def parameters_dict(parameters: ModelParameters) -> dict[str, Any]:
    return msgspec.to_builtins(parameters)  # type: ignore[no-any-return]


class AIModelCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    provider: ProviderField
    model: ModelName
    base_url: BaseUrl | None = None
    parameters: Parameters = msgspec.field(default_factory=ModelParameters)
    enabled: Annotated[bool, msgspec.Meta(description="Users may call it.")] = True
    is_default: Annotated[
        bool,
        msgspec.Meta(description="It answers when a request names no model; takes the mark from another."),
    ] = False
    api_key: ApiKey | None = None

    def __repr__(self) -> str:  # the key stays out of any log or traceback that prints the body
        return (
            f"AIModelCreate(name={self.name!r}, provider={self.provider!r}, api_key={_hidden(self.api_key)})"
        )


class AIModelChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Absent or null fields stay as they are."""

    name: Name | None = None
    provider: ProviderField | None = None
    model: ModelName | None = None
    base_url: BaseUrl | None = None
    parameters: Parameters | None = None
    enabled: Annotated[bool, msgspec.Meta(description="Users may call it.")] | None = None
    is_default: (
        Annotated[
            bool,
            msgspec.Meta(
                description="true takes the default mark from another model; false leaves no default."
            ),
        ]
        | None
    ) = None
    api_key: ApiKey | None = None
    remove_api_key: Annotated[bool, msgspec.Meta(description="true forgets the stored key.")] = False

    def __repr__(self) -> str:
        return f"AIModelChange(changes={self.changes()!r}, api_key={_hidden(self.api_key)})"

    def changes(self) -> dict[str, Any]:
        values = {
            name: getattr(self, name)
            for name in ("name", "provider", "model", "base_url", "enabled", "is_default")
            if getattr(self, name) is not None
        }
        if self.parameters is not None:
            values["parameters"] = parameters_dict(self.parameters)
        return values


def _hidden(api_key: str | None) -> str:
    return "None" if api_key is None else "'***'"


class AIModelResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    provider: Provider
    base_url: str | None
    model: Annotated[str, msgspec.Meta(description="Its name at the provider.")]
    parameters: dict[str, Any]
    enabled: bool
    is_default: bool
    api_key: Annotated[
        str | None, msgspec.Meta(description="The key masked (`sk-…abcd`); null when none is set.")
    ]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, model: AIModel) -> AIModelResponse:
        return cls(
            id=model.id,
            name=model.name,
            provider=model.provider,
            base_url=model.base_url,
            model=model.model,
            parameters=dict(model.parameters),
            enabled=model.enabled,
            is_default=model.is_default,
            api_key=model.api_key_hint if model.api_key else None,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


class ModelCheckResponse(msgspec.Struct, frozen=True, kw_only=True):
    ok: Annotated[bool, msgspec.Meta(description="The model answered.")]
    latency_ms: Annotated[
        float, msgspec.Meta(description="From the request to the answer, or to the failure.")
    ]
    error_kind: Annotated[
        str | None,
        msgspec.Meta(
            description="timeout, rate_limited, unavailable, authentication_failed, request_rejected, "
            "key_unreadable or error; null when ok."
        ),
    ] = None
    error_message: Annotated[str | None, msgspec.Meta(description="What the provider said.")] = None
    reply: Annotated[str | None, msgspec.Meta(description="The start of the answer.")] = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def of(cls, check: ModelCheck) -> ModelCheckResponse:
        return cls(**{f: getattr(check, f) for f in cls.__struct_fields__})
