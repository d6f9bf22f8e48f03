"""Each service's OpenAPI document, rendered without connecting anything: every operation reads
as written for its reader (no docstring sections parsed as text), and states what it answers.

The document is what clients and schemathesis trust; a handler docstring that Litestar copies
verbatim, or a refusal nobody documented, is a defect in the API even when the code is right.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from shared.auth import admin_guard
from shared.http.problems import PROBLEM_JSON

pytestmark = pytest.mark.parametrize("service_root", ["identity", "chat", "orchestrator"], indirect=True)

MINIMAL = {"DATABASE_URL": "postgresql://svc:pw@db/aiorch", "NATS_URL": "nats://bus:4222"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# What a Google/NumPy/rST docstring leaves behind when it is taken as prose.
ARTIFACTS = ("JSONBody[", "data:", "Args:", "Returns:", "Raises:", ":param", "Parameter(", "``")


@pytest.fixture
def app(service_root) -> Litestar:
    # Building the app opens nothing (connections live in the lifespan, which rendering never runs).
    built: Litestar = service_root.create_app(service_root.load_settings(MINIMAL))
    return built


@pytest.fixture
def document(app) -> dict[str, Any]:
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def handlers(app: Litestar) -> list[Any]:
    return [h for route in app.routes if isinstance(route, HTTPRoute) for h in route.route_handlers]


def operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def test_the_document_has_operations(document):
    # Every service serves at least whoami or its own API, and the shared health operations.
    assert {"GET /health/live", "GET /health/ready"} <= {name for name, _ in operations(document)}


def test_no_description_carries_docstring_artifacts(document):
    texts = [
        (name, op.get("summary", "") + "\n" + op.get("description", "")) for name, op in operations(document)
    ]
    texts += [
        (f"{name} parameter {p['name']}", p.get("description", ""))
        for name, op in operations(document)
        for p in op.get("parameters", [])
    ]
    texts += [
        (f"schema {name}.{prop}", spec.get("description", ""))
        for name, schema in document.get("components", {}).get("schemas", {}).items()
        for prop, spec in schema.get("properties", {}).items()
    ]

    found = [(where, a) for where, text in texts for a in ARTIFACTS if a in text]

    assert found == []


def test_every_operation_has_an_id_a_summary_a_description_and_a_tag(document):
    incomplete = [
        (name, key)
        for name, op in operations(document)
        for key in ("operationId", "summary", "description", "tags")
        if not op.get(key)
    ]
    # Without a summary Litestar writes the handler's name title-cased ("GetMe"): one word.
    placeholders = [
        (name, op.get("summary")) for name, op in operations(document) if " " not in op.get("summary", "")
    ]

    assert incomplete == []
    assert placeholders == []


def test_every_operation_id_is_chosen_not_generated(app, document):
    chosen = {h.operation_id for h in handlers(app) if isinstance(h.operation_id, str)}

    generated = [
        (name, op["operationId"]) for name, op in operations(document) if op["operationId"] not in chosen
    ]

    assert generated == []


def problems(op: dict[str, Any]) -> set[int]:
    return {
        int(status)
        for status, response in op.get("responses", {}).items()
        if status.startswith(("4", "5")) and set(response.get("content", {})) == {PROBLEM_JSON}
    }


def test_every_error_answer_is_documented_as_problem_details(document):
    not_problems = [
        (name, status)
        for name, op in operations(document)
        for status, response in op.get("responses", {}).items()
        if status.startswith(("4", "5")) and set(response.get("content", {})) != {PROBLEM_JSON}
    ]

    assert not_problems == []


def test_every_operation_that_can_refuse_a_request_documents_why(app, document):
    """What the chassis answers by itself, whatever the handler does: 400 for input that does not
    validate, 413 for a body over the size limit, 415 for a body that is not JSON, 401 without
    credentials, 404 for an id in the path that names nothing (or is no id), 403 where a guard wants
    an admin. An operation with no input and no credentials (liveness, the key set) has no refusal
    to document."""
    admin_only = {h.operation_id for h in handlers(app) if admin_guard in h.resolve_guards()}
    missing = []
    for name, op in operations(document):
        params = op.get("parameters", [])
        expected = set()
        if params or "requestBody" in op:
            expected.add(400)
        if "requestBody" in op:
            expected |= {413, 415}
        if op.get("security"):
            expected.add(401)
        if any(p["in"] == "path" and p["schema"].get("format") == "uuid" for p in params):
            expected.add(404)
        if op["operationId"] in admin_only:
            expected.add(403)
        missing += [(name, status) for status in sorted(expected - problems(op))]

    assert missing == []


def test_every_parameter_and_request_body_field_is_described(document):
    bare = [
        f"{name} parameter {p['name']}"
        for name, op in operations(document)
        for p in op.get("parameters", [])
        if not p.get("description")
    ]
    for name, op in operations(document):
        for media in op.get("requestBody", {}).get("content", {}).values():
            body = resolve(document, media["schema"])
            bare += [
                f"{name} body field {field}"
                for field, spec in body.get("properties", {}).items()
                if not spec.get("description") and not resolve(document, spec).get("description")
            ]

    assert bare == []


def test_every_request_body_refuses_unknown_fields_in_its_schema(document):
    """The decoder refuses a field it does not know (a typo is a 400 naming it); the schema says so,
    or a client (and schemathesis) takes any extra field for valid."""
    open_bodies = [
        name
        for name, op in operations(document)
        for media in op.get("requestBody", {}).get("content", {}).values()
        if resolve(document, media["schema"]).get("additionalProperties") is not False
    ]

    assert open_bodies == []


def test_options_lists_every_method_of_the_path(app, document):
    """``OPTIONS`` answers ``Allow`` with every method the path serves, as the document lists them
    (Litestar's answered only the methods of the first handler registered for the path)."""
    from litestar.testing import TestClient

    wrong = []
    client = TestClient(app, raise_server_exceptions=False)  # no lifespan: nothing connects
    for path, item in document["paths"].items():
        if "{" in path:
            continue
        response = client.request("OPTIONS", path)
        if response.status_code != 204:
            continue
        documented = {m.upper() for m in item if m in METHODS} | {"OPTIONS"}
        if set(response.headers["allow"].split(", ")) != documented:
            wrong.append((path, response.headers["allow"], sorted(documented)))

    assert wrong == []
