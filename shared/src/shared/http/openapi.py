"""The refusals an operation documents, as what every service answers them with: RFC 9457 problems.

``responses=problem_responses(400, 401, 404)`` on a handler (or a controller, or a router) puts
each status in the OpenAPI document with the ``application/problem+json`` body that
``shared.http.problems`` writes. A service may word a status its own way (identity's 429 says
which attempts it counts) with ``meanings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Reference, Schema
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

from shared.http.problems import PROBLEM_JSON, Problem

NO_NUL: Final = "^[^\\u0000]*$"
MEANINGS: Final[Mapping[int, str]] = {
    400: "Invalid input (the problem's `errors` name each field); nothing changed.",
    401: "No valid access token or credentials.",
    403: "Not allowed.",
    404: "No such resource (or not yours).",
    409: "Conflicts with the current state.",
    412: "The resource changed since it was read (`If-Match` does not match).",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not of a media type this operation reads.",
    422: "Well-formed, but cannot be processed as it stands.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    502: "A service this one depends on cannot be reached.",
    503: "Not ready: a dependency does not answer (the detail names each).",
}


def problem_responses(*statuses: int, meanings: Mapping[int, str] | None = None) -> dict[int, ResponseSpec]:
    """OpenAPI responses for ``statuses``, each a problem-details body.

    A status with no meaning in ``meanings`` nor in :data:`MEANINGS` is a ``KeyError``: every
    documented refusal says when it happens.
    """
    wording = {**MEANINGS, **(meanings or {})}
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=wording[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """Struct schemas as Litestar draws them, plus ``additionalProperties: false`` for a Struct
    with ``forbid_unknown_fields``: the document says what the decoder refuses."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            # the component itself, also when ``schema`` is a reference to it
            component = schema_creator.schema_registry.get_schema_for_field_definition(field_definition)
            component.additional_properties = False
            for spec in (component.properties or {}).values():
                _no_nul(spec)
                _integral_bounds(spec)
        return schema


def _no_nul(spec: Schema | Reference) -> None:
    """A request's strings hold no NUL (the input guard refuses one anywhere in a body)."""
    if not isinstance(spec, Schema):
        return
    for alternative in spec.one_of or spec.any_of or ():
        _no_nul(alternative)
    if spec.type == OpenAPIType.STRING and spec.pattern is None and spec.enum is None and spec.const is None:
        spec.pattern = NO_NUL


def _integral_bounds(spec: Schema | Reference) -> None:
    """An integer's bounds as integers: Litestar writes ``ge=1`` as ``minimum: 1.0``, and a client
    generating from the document then sends ``43.0``, which a strict decoder refuses as no ``int``."""
    if not isinstance(spec, Schema):
        return
    for alternative in spec.one_of or spec.any_of or ():
        _integral_bounds(alternative)
    if spec.type == OpenAPIType.INTEGER or any(
        isinstance(a, Schema) and a.type == OpenAPIType.INTEGER for a in spec.one_of or spec.any_of or ()
    ):
        for bound in ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum"):
            value = getattr(spec, bound)
            if isinstance(value, float) and value.is_integer():
                setattr(spec, bound, int(value))


__all__ = ["MEANINGS", "ClosedStructSchemaPlugin", "problem_responses"]
