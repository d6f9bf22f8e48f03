"""``/api/v1/admin``: accounts and the audit trail, for admins only."""

from uuid import uuid4

import jwt
import pytest
from services.identity.tests.integration.conftest import PASSWORD, bearer


@pytest.fixture
async def admin(api) -> dict:
    await api.register("root@example.org")
    await api.sql("UPDATE users SET role = 'admin'")
    return await api.login("root@example.org")


async def test_every_admin_route_refuses_anonymous_callers_and_users(api, admin):
    user = await api.signed_up("ada@example.org")
    routes = [
        ("GET", "/api/v1/admin/users"),
        ("GET", f"/api/v1/admin/users/{user['user']['id']}"),
        ("PATCH", f"/api/v1/admin/users/{user['user']['id']}"),
        ("DELETE", f"/api/v1/admin/users/{user['user']['id']}"),
        ("GET", "/api/v1/admin/audit"),
    ]
    for method, path in routes:
        anonymous = await api.client.request(method, path, json={} if method == "PATCH" else None)
        forbidden = await api.client.request(
            method, path, headers=bearer(user), json={} if method == "PATCH" else None
        )
        assert anonymous.status_code == 401, path
        assert forbidden.status_code == 403, path
        assert forbidden.headers["content-type"].startswith("application/problem+json")
    assert await api.sql("SELECT count(*) FROM users") == [(2,)]


async def test_the_openapi_document_marks_admin_routes(api):
    document = (await api.client.get("/schema/openapi.json")).json()

    operation = document["paths"]["/api/v1/admin/users"]["get"]
    assert operation["tags"] == ["admin"]
    assert "Admin only" in operation["description"]
    assert operation["security"] == [{"BearerToken": []}]


async def test_accounts_are_listed_page_by_page_and_filtered(api, admin):
    for name in ("ada", "grace", "linus"):
        await api.register(f"{name}@example.org", name=name.title())

    first = (await api.client.get("/api/v1/admin/users?limit=2", headers=bearer(admin))).json()
    second = (
        await api.client.get(
            f"/api/v1/admin/users?limit=2&cursor={first['next_cursor']}", headers=bearer(admin)
        )
    ).json()
    found = (await api.client.get("/api/v1/admin/users?q=GRA", headers=bearer(admin))).json()
    admins = (await api.client.get("/api/v1/admin/users?role=admin", headers=bearer(admin))).json()

    assert [u["email"] for u in first["items"]] == ["root@example.org", "ada@example.org"]
    assert [u["email"] for u in second["items"]] == ["grace@example.org", "linus@example.org"]
    assert second["next_cursor"] is None
    assert [u["name"] for u in found["items"]] == ["Grace"]
    assert [u["email"] for u in admins["items"]] == ["root@example.org"]


async def test_bad_paging_input_is_a_400_problem(api, admin):
    for query in ("limit=0", "limit=101", "cursor=not-a-cursor", "role=root", "q=" + "x" * 101):
        response = await api.client.get(f"/api/v1/admin/users?{query}", headers=bearer(admin))
        assert response.status_code == 400, query
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_one_account_is_shown_and_an_unknown_one_is_404(api, admin):
    ada = await api.register()

    found = await api.client.get(f"/api/v1/admin/users/{ada['id']}", headers=bearer(admin))
    missing = await api.client.get(f"/api/v1/admin/users/{uuid4()}", headers=bearer(admin))

    assert found.json() == ada
    assert missing.status_code == 404


async def test_deactivating_an_account_ends_its_sessions_at_once(api, admin):
    ada = await api.signed_up()

    response = await api.client.patch(
        f"/api/v1/admin/users/{ada['user']['id']}", json={"is_active": False}, headers=bearer(admin)
    )

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert (await api.client.get("/api/v1/users/me", headers=bearer(ada))).status_code == 401
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": ada["refresh_token"]})
    assert refresh.status_code == 401
    login = await api.client.post(
        "/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert login.status_code == 401
    # the other services refuse the account's tokens and the revoked sessions' at once too
    assert (await api.outbox())[-2:] == [
        "aiorch.identity.user.updated.v1",
        "aiorch.identity.user.sessions_revoked.v1",
    ]
    (actor,) = await api.sql("SELECT actor_id FROM audit_entries WHERE kind = 'user_deactivated'")
    assert str(actor[0]) == jwt_subject(admin)

    reactivated = await api.client.patch(
        f"/api/v1/admin/users/{ada['user']['id']}", json={"is_active": True}, headers=bearer(admin)
    )
    assert reactivated.json()["is_active"] is True
    await api.login()


async def test_promoting_an_account_takes_effect_at_its_next_refresh(api, admin):
    ada = await api.signed_up()

    response = await api.client.patch(
        f"/api/v1/admin/users/{ada['user']['id']}", json={"role": "admin"}, headers=bearer(admin)
    )

    assert response.json()["role"] == "admin"
    assert (await api.client.get("/api/v1/users/me", headers=bearer(ada))).status_code == 401
    fresh = (
        await api.client.post("/api/v1/auth/refresh", json={"refresh_token": ada["refresh_token"]})
    ).json()
    assert (await api.client.get("/api/v1/admin/users", headers=bearer(fresh))).status_code == 200
    assert [
        e for (e,) in await api.sql("SELECT details->>'role' FROM audit_entries WHERE kind = 'role_changed'")
    ] == ["admin"]


async def test_an_admin_cannot_demote_deactivate_or_delete_themselves(api, admin):
    me = jwt_subject(admin)
    for body in ({"role": "user"}, {"is_active": False}):
        response = await api.client.patch(f"/api/v1/admin/users/{me}", json=body, headers=bearer(admin))
        assert response.status_code == 409
    deletion = await api.client.delete(f"/api/v1/admin/users/{me}", headers=bearer(admin))
    assert deletion.status_code == 409
    assert await api.sql("SELECT role, is_active FROM users") == [("admin", True)]


async def test_an_invalid_change_is_a_400_problem(api, admin):
    ada = await api.register()

    response = await api.client.patch(
        f"/api/v1/admin/users/{ada['id']}", json={"role": "root"}, headers=bearer(admin)
    )
    missing = await api.client.patch(
        f"/api/v1/admin/users/{uuid4()}", json={"role": "user"}, headers=bearer(admin)
    )

    assert response.status_code == 400
    assert missing.status_code == 404


async def test_deleting_an_account_publishes_the_deletion_once_and_names_the_admin(api, admin):
    ada = await api.signed_up()

    response = await api.client.delete(f"/api/v1/admin/users/{ada['user']['id']}", headers=bearer(admin))
    again = await api.client.delete(f"/api/v1/admin/users/{ada['user']['id']}", headers=bearer(admin))

    assert (response.status_code, again.status_code) == (204, 404)
    deleted = await api.sql(
        "SELECT subject_id FROM outbox WHERE event_type = 'aiorch.identity.user.deleted.v1'"
    )
    assert deleted == [(ada["user"]["id"],)]
    assert (await api.client.get("/api/v1/users/me", headers=bearer(ada))).status_code == 401
    (entry,) = await api.sql("SELECT user_id, actor_id FROM audit_entries WHERE kind = 'user_deleted'")
    assert entry[0] is None
    assert str(entry[1]) == jwt_subject(admin)


async def test_the_audit_trail_is_listed_newest_first_per_account(api, admin):
    ada = await api.signed_up()
    await api.client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": "wrong!"})

    mine = (
        await api.client.get(
            f"/api/v1/admin/audit?user_id={ada['user']['id']}&limit=2", headers=bearer(admin)
        )
    ).json()
    rest = (
        await api.client.get(
            f"/api/v1/admin/audit?user_id={ada['user']['id']}&cursor={mine['next_cursor']}",
            headers=bearer(admin),
        )
    ).json()
    everything = (await api.client.get("/api/v1/admin/audit", headers=bearer(admin))).json()

    assert [e["kind"] for e in mine["items"]] == ["login_failed", "login_succeeded"]
    assert [e["kind"] for e in rest["items"]] == ["user_registered"]
    assert mine["items"][0]["details"] == {"reason": "wrong_password"}
    assert mine["items"][0]["ip"] == "testclient"
    assert len(everything["items"]) > len(mine["items"]) + len(rest["items"])
    assert PASSWORD not in str(everything)
    assert "wrong!" not in str(everything)


def jwt_subject(tokens: dict) -> str:
    return jwt.decode(tokens["access_token"], options={"verify_signature": False})["sub"]
