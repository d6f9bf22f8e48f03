"""The OpenAPI document states every limit the body decoder enforces, as msgspec states it.

Litestar draws request schemas itself and can lose what msgspec enforces: the limits of an
annotated type inside ``Annotated[Name | None, Meta(...)]``, or an ``int``'s bounds written as
floats (``minimum: 1.0``, after which a client generating from the document sends ``43.0``).
Schemathesis finds such gaps by chance; this compares every field, every time.
"""

from __future__ import annotations

import json
from typing import Any, Final

import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from shared.http.openapi import NO_NUL

MINIMAL: Final = {"DATABASE_URL": "postgresql://svc:pw@db/aiorch", "NATS_URL": "nats://bus:4222"}
LIMITS: Final = (
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "pattern",
    "format",
)


@pytest.fixture(scope="module")
def app(service_root) -> Litestar:
    built: Litestar = service_root.create_app(service_root.load_settings(MINIMAL))
    return built


def request_structs(app: Litestar) -> list[type[msgspec.Struct]]:
    found: dict[str, type[msgspec.Struct]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                data = handler.parsed_fn_signature.parameters.get("data")
                if (
                    data is not None
                    and isinstance(data.annotation, type)
                    and issubclass(data.annotation, msgspec.Struct)
                ):
                    found[data.annotation.__name__] = data.annotation
    return [found[name] for name in sorted(found)]


def limits(schema: dict[str, Any], components: dict[str, Any]) -> set[tuple[str, str]]:
    """Every limit in ``schema``, through references, alternatives and items (values as JSON text,
    so ``1`` and ``1.0`` differ as they do on the wire)."""
    found: set[tuple[str, str]] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            walk(components.get(node["$ref"].rsplit("/", 1)[-1]))
            return
        found.update((key, json.dumps(node[key])) for key in LIMITS if key in node and node[key] != NO_NUL)
        for key in ("anyOf", "oneOf"):
            for alternative in node.get(key, ()):
                walk(alternative)
        walk(node.get("items"))

    walk(schema)
    return found


def test_every_request_field_documents_the_limits_its_decoder_enforces(app):
    document = app.openapi_schema.to_schema()
    documented = document["components"]["schemas"]
    gaps = []
    for struct in request_structs(app):
        (reference,), own = msgspec.json.schema_components(
            [struct], ref_template="#/components/schemas/{name}"
        )
        enforced = own[reference["$ref"].rsplit("/", 1)[-1]]
        drawn = documented[struct.__name__]
        for field, schema in enforced.get("properties", {}).items():
            missing = limits(schema, own) - limits(drawn["properties"].get(field, {}), documented)
            # an enum documents a string's values more strictly than its length and pattern do
            if missing and not _is_enum(drawn["properties"].get(field, {}), documented):
                gaps.append(f"{struct.__name__}.{field}: {sorted(missing)}")
    assert not gaps, "limits enforced but not documented:\n" + "\n".join(gaps)


def _is_enum(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    items = schema.get("items", schema)
    if "$ref" in items:
        items = components.get(items["$ref"].rsplit("/", 1)[-1], {})
    return "enum" in items
