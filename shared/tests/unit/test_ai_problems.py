"""A model provider's failure answers a problem: 504 timed out, 503 unavailable or limited, 502 otherwise."""

import pytest
from litestar import get
from litestar.params import FromPath
from litestar.testing import TestClient

from shared.http.app import create_service_app
from shared.kernel import ai

FAILURES = {
    "timeout": ai.ModelTimeout("no first token within 30 s"),
    "unavailable": ai.ModelUnavailable("provider answered 502: upstream down"),
    "limited": ai.ModelRateLimited("provider answered 429: slow down", retry_after_s=1.2),
    "auth": ai.ModelAuthenticationFailed("provider answered 401: invalid api key"),
    "rejected": ai.ModelRequestRejected("provider answered 400: context too long"),
    "other": ai.ModelError("the stream ended without an answer"),
}


@get("/fail/{kind:str}", sync_to_thread=False)
def fail(kind: FromPath[str]) -> None:
    raise FAILURES[kind]


@pytest.fixture(scope="module")
def client():
    app = create_service_app(service="sample", version="0.1.0", route_handlers=[fail], metrics_token="t")
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("timeout", 504),
        ("unavailable", 503),
        ("limited", 503),
        ("auth", 502),
        ("rejected", 502),
        ("other", 502),
    ],
)
def test_each_model_error_kind_answers_its_status_with_what_the_provider_said(client, kind, status):
    response = client.get(f"/fail/{kind}")

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == FAILURES[kind].detail


def test_a_rate_limited_model_answers_retry_after_in_whole_seconds(client):
    response = client.get("/fail/limited")

    assert response.headers["retry-after"] == "2"


def test_an_unavailable_model_without_a_known_wait_sends_no_retry_after(client):
    assert "retry-after" not in client.get("/fail/unavailable").headers
