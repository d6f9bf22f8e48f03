"""JSON has one number type: the input guard reads ``43.0`` as the integer 43 for an ``int`` field
(as JSON Schema's ``integer`` does, so a client generating from the document may send it), and
still refuses a fraction, a bound crossed or a number for a boolean."""

from typing import Annotated, Any

import msgspec
import pytest
from litestar import post
from litestar.params import Body
from litestar.testing import TestClient

from shared.http.app import create_service_app


class Plan(msgspec.Struct, forbid_unknown_fields=True):
    count: Annotated[int, msgspec.Meta(ge=1, le=50)]
    ratio: float = 0.5
    sizes: list[int] = []
    strict: bool = False


seen: list[Plan] = []


@post("/plans", sync_to_thread=False)
def create_plan(data: Annotated[Plan, Body()]) -> None:
    seen.append(data)


@pytest.fixture
def client():
    seen.clear()
    app = create_service_app(service="sample", version="0.1.0", route_handlers=[create_plan])
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def errors(response) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = response.json()["errors"]
    return found


def test_an_integral_number_with_a_fraction_part_is_an_integer(client):
    r = client.post("/plans", json={"count": 43.0, "ratio": 2, "sizes": [1.0, 2]})

    assert r.status_code == 201, r.text
    assert seen == [Plan(count=43, ratio=2.0, sizes=[1, 2])]
    assert type(seen[0].count) is int


def test_a_fraction_is_still_no_integer(client):
    r = client.post("/plans", json={"count": 43.5})

    assert r.status_code == 400
    assert errors(r) == [{"field": "$.count", "message": "Expected `int`, got `float`"}]
    assert seen == []


def test_an_integral_number_past_its_bound_is_refused_naming_the_bound(client):
    r = client.post("/plans", json={"count": 51.0})

    assert r.status_code == 400
    assert errors(r) == [{"field": "$.count", "message": "Expected `int` <= 50"}]


def test_a_number_is_still_no_boolean(client):
    r = client.post("/plans", json={"count": 1.0, "strict": 1.0})

    assert r.status_code == 400
    assert errors(r) == [{"field": "$.strict", "message": "Expected `bool`, got `int`"}]


def test_a_body_of_the_wrong_type_that_is_no_json_either_is_a_400(client):
    r = client.post("/plans", content=b"[\xb3CG\x1b\xe9y", headers={"content-type": "application/json"})

    assert r.status_code == 400
    assert seen == []
