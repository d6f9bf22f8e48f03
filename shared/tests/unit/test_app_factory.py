"""The app factory's common surface, with no database: problems, request ids, health, schema."""

import gc
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.datastructures import State
from litestar.params import Body as Body_
from litestar.params import FromPath

from shared.http.app import create_service_app
from shared.http.health import ReadinessCheck
from shared.kernel.errors import Conflict


class Body(msgspec.Struct):
    email: str
    age: int


@post("/things", sync_to_thread=False)
def create_thing(data: Annotated[Body, Body_()]) -> Body:
    return data


@get("/conflict", sync_to_thread=False)
def conflict() -> None:
    raise Conflict("that email is taken")


@get("/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError("secret internals")


async def failing(state: State) -> None:
    raise ConnectionError("connection refused")


async def passing(state: State) -> None:
    return None


METRICS_TOKEN = "scrape-token-for-tests"
SCRAPE = {"authorization": f"Bearer {METRICS_TOKEN}"}


def app(checks=()):
    return create_service_app(
        service="sample",
        version="0.1.0",
        route_handlers=[create_thing, conflict, boom],
        readiness=checks,
        metrics_token=METRICS_TOKEN,
    )


def client(checks=()):
    from litestar.testing import TestClient

    return TestClient(app(checks), raise_server_exceptions=False)


def test_validation_errors_are_problem_details_with_the_field_path():
    with client() as c:
        r = c.post("/things", json={"email": "a@b.c", "age": "old"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 400
    assert body["errors"] == [{"field": "$.age", "message": "Expected `int`, got `str`"}]
    assert body["request_id"] == r.headers["x-request-id"]


def test_malformed_json_is_a_400_problem():
    with client() as c:
        r = c.post("/things", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == "The request body is not valid JSON: Input data was truncated"


def test_domain_errors_map_to_their_status():
    with client() as c:
        r = c.get("/conflict")
    assert r.status_code == 409
    assert r.json()["detail"] == "that email is taken"


def test_unexpected_errors_are_a_bare_500_without_internals():
    with client() as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert "secret internals" not in r.text
    assert r.json()["title"] == "Internal server error"


def test_unknown_route_is_a_404_problem_and_request_id_is_echoed():
    with client() as c:
        r = c.get("/nowhere", headers={"x-request-id": "abc-123"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["x-request-id"] == "abc-123"


def test_readiness_is_503_with_the_reason_when_a_dependency_fails():
    with client([ReadinessCheck("database", passing), ReadinessCheck("nats", failing)]) as c:
        ready = c.get("/health/ready")
        live = c.get("/health/live")
    assert live.status_code == 200
    assert ready.status_code == 503
    assert "nats: ConnectionError: connection refused" in ready.json()["detail"]
    assert "database" not in ready.json()["detail"]


def test_readiness_is_200_when_every_dependency_answers():
    with client([ReadinessCheck("database", passing)]) as c:
        r = c.get("/health/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"shutdown": "ok", "database": "ok"}}


def test_openapi_and_metrics_are_served():
    with client() as c:
        c.get("/health/live")
        schema = c.get("/schema/openapi.json")
        metrics = c.get("/metrics", headers=SCRAPE)
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "aiorch sample"
    assert "BearerToken" in schema.json()["components"]["securitySchemes"]
    assert metrics.status_code == 200
    assert "aiorch_requests_total" in metrics.text


def test_a_missing_field_is_reported_at_its_own_path():
    with client() as c:
        r = c.post("/things", json={"age": 3})
    assert r.status_code == 400
    assert r.json()["errors"] == [{"field": "$.email", "message": "Object missing required field `email`"}]


@get("/things/{thing_id:int}", sync_to_thread=False)
def one_thing(thing_id: FromPath[int]) -> int:
    return thing_id


def series(text: str, name: str, app_name: str) -> dict[tuple[str, str, str], float]:
    """The samples of ``name`` for one app, by (method, path, status_code)."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.labels["method"], s.labels["path"], s.labels["status_code"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and s.labels.get("app_name") == app_name
    }


def test_requests_are_counted_and_timed_by_route_template_and_status_but_not_probes():
    measured = create_service_app(
        service="metrics-sample",
        version="0",
        route_handlers=[one_thing, conflict, boom],
        metrics_token=METRICS_TOKEN,
    )
    from litestar.testing import TestClient

    with TestClient(measured, raise_server_exceptions=False) as c:
        for path in ("/things/1", "/things/2", "/conflict", "/boom", "/health/live", "/nowhere"):
            c.get(path)
        text = c.get("/metrics", headers=SCRAPE).text

    assert series(text, "aiorch_requests_total", "metrics-sample") == {
        ("GET", "/things/{thing_id}", "200"): 2.0,
        ("GET", "/conflict", "409"): 1.0,
        ("GET", "/boom", "500"): 1.0,
    }
    assert (
        series(text, "aiorch_request_duration_seconds_count", "metrics-sample")[
            ("GET", "/things/{thing_id}", "200")
        ]
        == 2.0
    )
    assert series(text, "aiorch_requests_error_total", "metrics-sample") == {("GET", "/boom", "500"): 1.0}
    assert set(series(text, "aiorch_requests_in_progress", "metrics-sample").values()) == {0.0}


def test_what_start_up_built_is_kept_out_of_the_cyclic_collector_while_the_app_runs():
    from litestar.testing import TestClient

    app = create_service_app(service="sample", version="0", route_handlers=[])
    with TestClient(app):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_while_the_app_runs_young_objects_are_collected_less_often_and_as_before_after():
    from litestar.testing import TestClient

    from shared.http.app import YOUNG_GC_THRESHOLD

    before = gc.get_threshold()
    app = create_service_app(service="sample", version="0", route_handlers=[])
    with TestClient(app):
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
