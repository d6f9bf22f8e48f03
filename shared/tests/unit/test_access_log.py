"""The access line, rendered straight with msgspec: its fields, no secret in it, its sampling."""

import json
import logging
from datetime import UTC, datetime

import pytest
import structlog
from litestar import get
from litestar.testing import TestClient

from shared.http.access_log import AccessLine, render
from shared.http.app import create_service_app
from shared.logging import configure_logging

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@get("/hello", sync_to_thread=False)
def hello() -> str:
    return "hi"


@get("/fail", sync_to_thread=False)
def fail() -> None:
    raise RuntimeError("broken")


@pytest.fixture
def logs(capsys):
    def configure(level: str = "INFO") -> None:
        configure_logging("sample", level)

    def lines() -> list[dict]:
        out = capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    configure()
    yield configure, lines
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def access_lines(lines) -> list[dict]:
    return [line for line in lines() if line.get("event") == "request"]


def client(sample: float = 1.0) -> TestClient:
    app = create_service_app(
        service="sample", version="0", route_handlers=[hello, fail], access_log_sample=sample
    )
    return TestClient(app, raise_server_exceptions=False)


def test_the_line_has_the_fields_of_a_structlog_line_in_their_order(logs):
    _, lines = logs
    with client() as http:
        answer = http.get("/hello", headers={"traceparent": TRACEPARENT})

    (line,) = access_lines(lines)
    assert list(line) == [
        "method",
        "path",
        "status",
        "duration_ms",
        "event",
        "traceparent",
        "request_id",
        "service",
        "level",
        "timestamp",
    ]
    assert line["method"] == "GET"
    assert line["path"] == "/hello"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["traceparent"] == TRACEPARENT
    assert line["request_id"] == answer.headers["x-request-id"]
    assert (line["service"], line["level"]) == ("sample", "info")
    assert line["timestamp"].endswith("Z")
    stamped = datetime.fromisoformat(line["timestamp"])
    assert stamped.tzinfo is not None
    assert abs((datetime.now(UTC) - stamped).total_seconds()) < 60


def test_without_a_traceparent_the_line_has_none_and_keeps_the_callers_request_id(logs):
    _, lines = logs
    with client() as http:
        http.get("/hello", headers={"x-request-id": "req-7"})

    (line,) = access_lines(lines)
    assert "traceparent" not in line
    assert line["request_id"] == "req-7"


def test_no_token_header_or_query_secret_reaches_the_line(logs):
    _, lines = logs
    with client() as http:
        http.get(
            "/hello?token=query-secret-1&password=query-secret-2",
            headers={"authorization": "Bearer header-secret-3", "cookie": "session=cookie-secret-4"},
        )
        http.get("/hello", headers={"x-request-id": "not sane: secret-5"})

    logged = access_lines(lines)
    assert [line["path"] for line in logged] == ["/hello", "/hello"]
    rendered = json.dumps(logged)
    for secret in ("query-secret-1", "query-secret-2", "header-secret-3", "cookie-secret-4", "secret-5"):
        assert secret not in rendered
    assert "?" not in rendered


def test_a_rendered_line_is_one_json_object_on_one_line_whatever_the_path():
    line = render(
        AccessLine(
            method="GET",
            path='/odd\n"path"\\',
            status=404,
            duration_ms=0.5,
            event="request",
            request_id="r",
            service="s",
            level="info",
            timestamp="2026-01-01T00:00:00.000000Z",
        )
    )

    assert "\n" not in line
    assert json.loads(line)["path"] == '/odd\n"path"\\'


def test_every_request_is_logged_at_sample_one(logs):
    _, lines = logs
    with client(1.0) as http:
        for _ in range(5):
            http.get("/hello")

    assert len(access_lines(lines)) == 5


def test_a_fraction_of_requests_is_logged_at_a_sample_between_and_every_server_error(logs):
    _, lines = logs
    with client(0.5) as http:
        for _ in range(200):
            http.get("/hello")
        for _ in range(3):
            http.get("/fail")

    logged = access_lines(lines)
    hellos = sum(line["path"] == "/hello" for line in logged)
    assert 0 < hellos < 200  # each of 200 requests kept with probability 1/2
    assert sum(line["path"] == "/fail" and line["status"] == 500 for line in logged) == 3


def test_probes_and_scrapes_get_no_line(logs):
    _, lines = logs
    with client() as http:
        http.get("/health/live")
        http.get("/metrics")

    assert access_lines(lines) == []


def test_no_line_when_the_log_level_is_above_info(logs):
    configure, lines = logs
    configure("WARNING")
    with client() as http:
        http.get("/hello")
        http.get("/fail")

    assert access_lines(lines) == []
