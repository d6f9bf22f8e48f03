"""``/settings``: the system settings (users read the public ones; admins read all and change them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.params import JSONBody, QueryParameter

from orchestrator.application import settings as use_cases
from orchestrator.application.ports.settings import AuditEntry
from orchestrator.domain.settings import REGISTRY, InvalidSettings, SettingSpec, SettingType
from orchestrator.entrypoints.http.dependencies import UnitOfWorkDep
from orchestrator.entrypoints.http.openapi import problems
from shared.auth import BEARER_SECURITY, CurrentPrincipal, admin_guard
from shared.http.problems import FieldError, Problem, problem_response
from shared.kernel.pagination import MAX_LIMIT, Page

SettingName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[a-z0-9_.]+$")]
JsonValue = int | float | bool | Annotated[str, msgspec.Meta(max_length=1000)] | None
"""A value as a request carries it (an integer stays one), checked against its setting by the domain."""
ShownValue = float | bool | str | None
"""A value as a response shows it: JSON numbers are one type, so the document's ``oneOf`` never
matches twice (an integer setting's value is still written as an integer)."""


def _value_schema(spec: SettingSpec) -> dict[str, Any]:
    kind: dict[str, Any] = {"uuid": {"type": "string", "format": "uuid"}}.get(spec.type, {"type": spec.type})
    if spec.nullable:
        kind = {"oneOf": [kind, {"type": "null"}]}
    limits = {"minimum": spec.minimum, "maximum": spec.maximum, "enum": list(spec.choices) or None}
    return {**kind, **{k: v for k, v in limits.items() if v is not None}, "description": spec.description}


# The document states every known setting's type and limits (the domain checks the same and lists
# every error at once, which a decoder stopping at the first cannot).
VALUES_SCHEMA: Final = {
    "properties": {name: _value_schema(spec) for name, spec in sorted(REGISTRY.items())},
    "additional_properties": False,
}
RESET_SCHEMA: Final = {"items": {"type": "string", "enum": sorted(REGISTRY)}}


class SettingResponse(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: SettingType
    value: Annotated[
        ShownValue, msgspec.Meta(description="What is in force: the chosen value, else the default.")
    ]
    default: ShownValue
    is_set: Annotated[bool, msgspec.Meta(description="An admin chose the value.")]
    description: str
    public: Annotated[bool, msgspec.Meta(description="Every user may read it (otherwise admins only).")]
    nullable: bool
    minimum: float | None = None
    maximum: float | None = None
    choices: list[str] | None = None

    @classmethod
    def of(cls, view: use_cases.SettingView) -> SettingResponse:
        spec = view.spec
        return cls(
            name=spec.name,
            type=spec.type,
            value=view.value,
            default=spec.default,
            is_set=view.is_set,
            description=spec.description,
            public=spec.public,
            nullable=spec.nullable,
            minimum=spec.minimum,
            maximum=spec.maximum,
            choices=list(spec.choices) or None,
        )


class SettingsChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    values: Annotated[
        dict[Annotated[str, msgspec.Meta(max_length=100)], JsonValue],
        msgspec.Meta(
            max_length=50,
            description="New values by setting name.",
            extra_json_schema={"extra": VALUES_SCHEMA},
        ),
    ] = {}
    reset: Annotated[
        list[SettingName],
        msgspec.Meta(
            max_length=50,
            description="Settings put back to their default.",
            extra_json_schema={"extra": RESET_SCHEMA},
        ),
    ] = []


class SettingsAuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    old: ShownValue
    new: ShownValue
    actor_id: Annotated[
        UUID | None, msgspec.Meta(description="The admin who changed it; null once their account is erased.")
    ]
    at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> SettingsAuditEntry:
        return cls(
            id=entry.id, name=entry.name, old=entry.old, new=entry.new, actor_id=entry.actor_id, at=entry.at
        )


def invalid_settings(request: Request[Any, Any, Any], exc: InvalidSettings) -> Response[Problem]:
    """Every refused setting as a field error (``$.values['name']``), none applied."""
    errors = [FieldError(field=f"$.values['{name}']", message=why) for name, why in exc.errors]
    return problem_response(request, 400, exc.detail, title="Invalid settings", field_errors=errors)


class SettingsController(Controller):
    path = "/api/v1/settings"
    tags = ["settings"]
    security = BEARER_SECURITY

    @get("/", operation_id="list_settings", summary="The system settings", responses=problems(401))
    async def list_settings(self, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> list[SettingResponse]:
        """Every setting by name with its value, default, type, limits and description: the public
        ones for a user, all for an admin."""
        return [SettingResponse.of(v) for v in await use_cases.read_settings(uow, admin=principal.is_admin)]

    @put(
        "/",
        operation_id="update_settings",
        summary="Change system settings",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 413),
        exception_handlers={InvalidSettings: invalid_settings},
    )
    async def update_settings(
        self, data: JSONBody[SettingsChange], principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> list[SettingResponse]:
        """Sets `values` and resets `reset`, all or nothing: an unknown name or an invalid value
        is a 400 listing every error, and nothing changes. Each change is audited (who, when,
        old and new) and the whole announced as `orchestrator.settings.changed`. Answers every
        setting as it is now. Admin only."""
        command = use_cases.ChangeSettings(actor_id=principal.user_id, values=data.values, reset=data.reset)
        return [SettingResponse.of(v) for v in await use_cases.change_settings(command, uow)]

    @get(
        "/audit",
        operation_id="settings_audit",
        summary="Who changed which setting",
        guards=[admin_guard],
        responses=problems(400, 401, 403),
    )
    async def audit(
        self,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        name: Annotated[
            str | None,
            QueryParameter(
                max_length=100, pattern=r"^[a-z0-9_.]+$", description="Only this setting's changes."
            ),
        ] = None,
        cursor: Annotated[
            str | None,
            QueryParameter(
                max_length=512,
                pattern=r"^[A-Za-z0-9_-]+$",
                description="From the previous page's `next_cursor`.",
            ),
        ] = None,
        limit: Annotated[
            int | None, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
        ] = None,
    ) -> Page[SettingsAuditEntry]:
        """The settings' changes, newest first: who, when, old and new value. Admin only."""
        page = await use_cases.settings_audit(uow, name=name, cursor=cursor, limit=limit)
        return page.map(SettingsAuditEntry.of)
