"""The edge's input checks (shared.http.input_guard), on a bare app built by the chassis: what no
handler can use is a 4xx problem before anything decodes it."""

from typing import Annotated, Any

import msgspec
import pytest
from litestar import get, post
from litestar.params import Body, FromQuery
from litestar.testing import TestClient

from shared.http.app import create_service_app
from shared.http.input_guard import DEFAULT_BODY_LIMIT, EMPTY_BODY, MAX_DEPTH, too_deep


class Payload(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    active: bool = True
    extra: dict[str, Any] | None = None


seen: list[Payload] = []


@post("/things", sync_to_thread=False)
def create_thing(data: Annotated[Payload, Body()]) -> None:
    seen.append(data)


@post("/big", sync_to_thread=False, request_max_body_size=DEFAULT_BODY_LIMIT * 4)
def create_big(data: Annotated[Payload, Body()]) -> None:
    seen.append(data)


@get("/search", sync_to_thread=False)
def search(q: FromQuery[str]) -> str:
    return q


@pytest.fixture
def client():
    seen.clear()
    app = create_service_app(
        service="sample", version="0.1.0", route_handlers=[create_thing, create_big, search]
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def problem(response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_nul_escape_in_a_json_string_is_a_400_before_the_handler(client):
    r = client.post("/things", content=b'{"email": "ada\\u0000@example.org"}', headers=JSON)

    assert r.status_code == 400
    assert "NUL" in problem(r)["detail"]
    assert seen == []


def test_an_escaped_backslash_before_u0000_is_no_nul(client):
    r = client.post("/things", content=b'{"email": "ada\\\\u0000@example.org"}', headers=JSON)

    assert r.status_code == 201
    assert seen == [Payload(email="ada\\u0000@example.org")]


@pytest.mark.parametrize("query", ["q=a%00b", "q=%00"])
def test_a_nul_in_the_query_string_is_a_400(client, query):
    r = client.get(f"/search?{query}")

    assert r.status_code == 400
    assert "NUL" in problem(r)["detail"]


def test_a_nul_in_the_path_is_a_400(client):
    r = client.get("/search%00?q=a")

    assert r.status_code in (400, 404)
    assert problem(r)["status"] == r.status_code


def test_json_nested_a_thousand_deep_is_a_400_not_a_recursion_error(client):
    deep = b'{"email": "a@b.c", "extra": {"x": ' + b"[" * 1000 + b"]" * 1000 + b"}}"

    r = client.post("/things", content=deep, headers=JSON)

    assert r.status_code == 400
    assert f"deeper than {MAX_DEPTH}" in problem(r)["detail"]


def test_nesting_is_measured_outside_strings():
    assert not too_deep(b'{"email": "' + b"[" * 500 + b'"}')
    assert too_deep(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert not too_deep(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    # many brackets side by side are no depth
    assert not too_deep(b"[" + b"[]," * 500 + b"[]]")


def test_an_empty_body_says_so(client):
    r = client.post("/things", content=b"", headers=JSON)

    assert r.status_code == 400
    assert problem(r)["detail"] == EMPTY_BODY


def test_a_json_body_sent_as_text_plain_is_a_415(client):
    r = client.post("/things", content=b'{"email": "a@b.c"}', headers={"content-type": "text/plain"})

    assert r.status_code == 415
    assert "application/json" in problem(r)["detail"]
    assert seen == []


def test_a_json_suffix_media_type_and_a_charset_are_json(client):
    r = client.post(
        "/things", content=b'{"email": "a@b.c"}', headers={"content-type": "application/json; charset=utf-8"}
    )

    assert r.status_code == 201


def test_a_body_over_the_default_limit_is_a_413_by_its_content_length(client):
    body = b'{"email": "' + b"a" * DEFAULT_BODY_LIMIT + b'"}'

    r = client.post("/things", content=body, headers=JSON)

    assert r.status_code == 413
    assert str(DEFAULT_BODY_LIMIT) in problem(r)["detail"]


def test_a_chunked_body_over_the_limit_is_a_413_while_reading(client):
    def chunks():
        yield b'{"email": "'
        for _ in range(DEFAULT_BODY_LIMIT // 1024 + 1):
            yield b"a" * 1024
        yield b'"}'

    r = client.post("/things", content=chunks(), headers=JSON)

    assert r.status_code == 413


def test_a_route_may_accept_more(client):
    body = b'{"email": "' + b"a" * DEFAULT_BODY_LIMIT + b'"}'

    r = client.post("/big", content=body, headers=JSON)

    assert r.status_code == 201


def test_booleans_are_strict(client):
    r = client.post("/things", json={"email": "a@b.c", "active": 0})

    assert r.status_code == 400
    assert problem(r)["errors"] == [{"field": "$.active", "message": "Expected `bool`, got `int`"}]
    assert seen == []


def test_a_missing_field_is_named_with_its_path(client):
    r = client.post("/things", json={"active": True})

    assert r.status_code == 400
    assert problem(r)["errors"] == [{"field": "$.email", "message": "Object missing required field `email`"}]


JSON = {"content-type": "application/json"}


class Secret(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=128)]


@post("/secrets", sync_to_thread=False)
def create_secret(data: Annotated[Secret, Body()]) -> None:
    return None


def test_a_length_limit_reads_as_a_person_would_say_it():
    app = create_service_app(service="sample", version="0.1.0", route_handlers=[create_secret])
    with TestClient(app, raise_server_exceptions=False) as c:
        short = c.post("/secrets", json={"password": "short"})
        long = c.post("/secrets", json={"password": "x" * 129})

    assert problem(short)["errors"] == [{"field": "$.password", "message": "must be at least 8 characters"}]
    assert problem(long)["errors"] == [{"field": "$.password", "message": "must be at most 128 characters"}]
