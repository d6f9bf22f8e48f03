"""Logs are JSON lines with the service and, inside a request, the request id; secrets never show."""

import json
import logging

import pytest
import structlog
from litestar import get
from litestar.testing import TestClient

from shared.http.app import create_service_app
from shared.logging import configure_logging, get_logger


@pytest.fixture
def json_logs(capsys):
    configure_logging("sample", "INFO")
    yield lambda: [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


@get("/hello", sync_to_thread=False)
def hello() -> str:
    get_logger("handler").info("saying hello", password="hunter22", detail="ok")
    return "hi"


def test_every_line_is_json_with_the_service_and_level(json_logs):
    get_logger("x").warning("something happened", count=3)
    logging.getLogger("stdlib.module").error("from the standard library")
    first, second = json_logs()
    assert first["event"] == "something happened"
    assert first["service"] == "sample"
    assert first["level"] == "warning"
    assert first["count"] == 3
    assert second["event"] == "from the standard library"
    assert second["logger"] == "stdlib.module"
    assert second["service"] == "sample"


def test_lines_logged_during_a_request_carry_its_request_id_and_no_secret(json_logs):
    app = create_service_app(service="sample", version="0", route_handlers=[hello])
    with TestClient(app) as client:
        answer = client.get("/hello", headers={"x-request-id": "req-42"})
    assert answer.headers["x-request-id"] == "req-42"
    lines = [line for line in json_logs() if line.get("request_id") == "req-42"]
    handler_line = next(line for line in lines if line["event"] == "saying hello")
    access_line = next(line for line in lines if line["event"] == "request")
    assert handler_line["password"] == "[redacted]"
    assert "hunter22" not in json.dumps(lines)
    assert access_line["status"] == 200
    assert access_line["path"] == "/hello"


@get("/fail", sync_to_thread=False)
def fail() -> None:
    raise RuntimeError("broken")


def test_the_access_log_can_be_sampled_down_to_server_errors_only(json_logs):
    app = create_service_app(
        service="sample", version="0", route_handlers=[hello, fail], access_log_sample=0.0
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get("/hello")
        client.get("/fail")
    access = [line for line in json_logs() if line["event"] == "request"]
    assert [(line["path"], line["status"]) for line in access] == [("/fail", 500)]


def test_a_generated_request_id_is_32_hex_digits_and_new_each_time():
    app = create_service_app(service="sample", version="0", route_handlers=[hello])
    with TestClient(app) as client:
        ids = {client.get("/hello").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)
