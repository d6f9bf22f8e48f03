"""What every service's edge refuses by itself (the chassis, issue 7 points 6 and 8), checked on
each service's real app: a NUL character anywhere in the request is a 400 problem, never a 500."""

import pytest

pytestmark = pytest.mark.parametrize("service_root", ["identity", "chat", "orchestrator"], indirect=True)


async def test_a_nul_in_the_query_string_is_a_400_problem(service_client):
    response = await service_client.get("/health/live?q=%00")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "NUL" in response.json()["detail"]


async def test_a_nul_in_the_path_is_a_4xx_problem(service_client):
    response = await service_client.get("/api/v1/who%00ami")

    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_every_answer_carries_the_security_headers(service_client):
    for response in (await service_client.get("/health/live"), await service_client.get("/api/v1/nothing")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
