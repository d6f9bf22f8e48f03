"""A spent budget answers 429 with Retry-After and when it resets; a model that cannot answer, 422."""

from datetime import UTC, datetime

import pytest
from litestar import get
from litestar.params import FromPath
from litestar.testing import TestClient

from chat.application.budgets import BudgetExceeded
from chat.application.ports.replicas import ModelNotAvailable
from shared.http.app import create_service_app
from shared.kernel.ids import new_id

RESETS_AT = datetime(2026, 3, 11, tzinfo=UTC)
REFUSALS = {
    "budget": BudgetExceeded(which="messages", limit=200, resets_at=RESETS_AT, retry_after_s=3600),
    "model": ModelNotAvailable(new_id()),
}


@get("/refuse/{kind:str}", sync_to_thread=False)
def refuse(kind: FromPath[str]) -> None:
    raise REFUSALS[kind]


@pytest.fixture(scope="module")
def client():
    app = create_service_app(service="sample", version="0.1.0", route_handlers=[refuse], metrics_token="t")
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_a_spent_budget_is_429_with_retry_after_and_the_reset_time(client):
    response = client.get("/refuse/budget")

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3600"
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["title"] == "Budget exceeded"
    assert "200 messages" in body["detail"]
    assert "2026-03-11T00:00:00+00:00" in body["detail"]


def test_a_model_that_cannot_answer_is_422_naming_it(client):
    response = client.get("/refuse/model")

    assert response.status_code == 422
    assert str(REFUSALS["model"].model_id) in response.json()["detail"]  # type: ignore[attr-defined]
    assert "retry-after" not in response.headers
