"""``/api/v1/auth/sessions``: my sessions, listed and revoked."""

from uuid import uuid4

from services.identity.tests.integration.conftest import bearer


async def test_my_sessions_are_listed_newest_first_with_the_current_one_marked(api):
    await api.register()
    laptop = await api.login(**{"User-Agent": "laptop-browser"})
    phone = await api.login(**{"User-Agent": "phone-app"})

    response = await api.client.get("/api/v1/auth/sessions", headers=bearer(laptop))

    assert response.status_code == 200
    sessions = response.json()
    assert [s["user_agent"] for s in sessions] == ["phone-app", "laptop-browser"]
    assert [s["current"] for s in sessions] == [False, True]
    assert set(sessions[0]) == {
        "id",
        "created_at",
        "last_used_at",
        "expires_at",
        "user_agent",
        "ip",
        "current",
    }
    assert sessions[0]["ip"] == "testclient"
    assert phone["refresh_token"] not in response.text


async def test_someone_elses_sessions_are_not_mine_to_see_or_end(api):
    ada = await api.signed_up("ada@example.org")
    grace = await api.signed_up("grace@example.org")
    (graces,) = (await api.client.get("/api/v1/auth/sessions", headers=bearer(grace))).json()

    listed = (await api.client.get("/api/v1/auth/sessions", headers=bearer(ada))).json()
    revoke = await api.client.delete(f"/api/v1/auth/sessions/{graces['id']}", headers=bearer(ada))
    unknown = await api.client.delete(f"/api/v1/auth/sessions/{uuid4()}", headers=bearer(ada))

    assert graces["id"] not in {s["id"] for s in listed}
    assert revoke.status_code == unknown.status_code == 404
    assert revoke.headers["content-type"].startswith("application/problem+json")
    assert {k: v for k, v in revoke.json().items() if k not in {"request_id", "instance"}} == {
        k: v for k, v in unknown.json().items() if k not in {"request_id", "instance"}
    }
    assert (await api.client.get("/api/v1/users/me", headers=bearer(grace))).status_code == 200


async def test_ending_one_of_my_sessions_stops_its_tokens_at_once(api):
    await api.register()
    mine, other = await api.login(), await api.login()
    sessions = (await api.client.get("/api/v1/auth/sessions", headers=bearer(mine))).json()
    other_id = next(s["id"] for s in sessions if not s["current"])

    response = await api.client.delete(f"/api/v1/auth/sessions/{other_id}", headers=bearer(mine))

    assert response.status_code == 204
    assert (await api.client.get("/api/v1/users/me", headers=bearer(other))).status_code == 401
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refresh.status_code == 401
    remaining = (await api.client.get("/api/v1/auth/sessions", headers=bearer(mine))).json()
    assert [s["id"] for s in remaining] != [other_id]
    assert len(remaining) == 1
    again = await api.client.delete(f"/api/v1/auth/sessions/{other_id}", headers=bearer(mine))
    assert again.status_code == 204


async def test_ending_all_other_sessions_keeps_mine(api):
    await api.register()
    mine, *others = [await api.login() for _ in range(3)]

    response = await api.client.delete("/api/v1/auth/sessions", headers=bearer(mine))

    assert response.status_code == 204
    assert (await api.client.get("/api/v1/users/me", headers=bearer(mine))).status_code == 200
    for other in others:
        assert (await api.client.get("/api/v1/users/me", headers=bearer(other))).status_code == 401
    assert len((await api.client.get("/api/v1/auth/sessions", headers=bearer(mine))).json()) == 1


async def test_sessions_need_a_valid_access_token(api):
    for method, path in (
        ("GET", "/api/v1/auth/sessions"),
        ("DELETE", "/api/v1/auth/sessions"),
        ("DELETE", f"/api/v1/auth/sessions/{uuid4()}"),
    ):
        response = await api.client.request(method, path)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        garbage = await api.client.request(method, path, headers={"Authorization": "Bearer not-a-token"})
        assert garbage.status_code == 401
