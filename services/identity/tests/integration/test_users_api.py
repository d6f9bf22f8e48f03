"""``/api/v1/users/me``: my profile, my password, and erasing my account."""

from services.identity.tests.integration.conftest import PASSWORD, bearer

NEW_PASSWORD = "a brand new passphrase"


async def test_my_profile_is_the_account_of_the_token(api):
    tokens = await api.signed_up()

    response = await api.client.get("/api/v1/users/me", headers=bearer(tokens))

    assert response.status_code == 200
    assert response.json() == tokens["user"]


async def test_renaming_myself_publishes_an_update(api):
    tokens = await api.signed_up()

    response = await api.client.patch(
        "/api/v1/users/me", json={"name": "  Ada   Lovelace "}, headers=bearer(tokens)
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Ada Lovelace"
    assert await api.outbox() == ["aiorch.identity.user.registered.v1", "aiorch.identity.user.updated.v1"]
    cleared = await api.client.patch("/api/v1/users/me", json={"name": None}, headers=bearer(tokens))
    assert cleared.json()["name"] is None


async def test_a_bad_profile_update_is_a_400_problem_and_changes_nothing(api):
    tokens = await api.signed_up()

    too_long = await api.client.patch("/api/v1/users/me", json={"name": "x" * 101}, headers=bearer(tokens))
    unknown = await api.client.patch("/api/v1/users/me", json={"role": "admin"}, headers=bearer(tokens))
    anonymous = await api.client.patch("/api/v1/users/me", json={"name": "Eve"})

    assert (too_long.status_code, unknown.status_code, anonymous.status_code) == (400, 400, 401)
    assert await api.sql("SELECT name, role FROM users") == [(None, "user")]


async def test_changing_my_password_ends_my_other_sessions_only(api):
    mine = await api.signed_up()
    other = await api.login()

    response = await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(mine),
    )

    assert response.status_code == 204
    assert (await api.client.get("/api/v1/users/me", headers=bearer(mine))).status_code == 200
    assert (await api.client.get("/api/v1/users/me", headers=bearer(other))).status_code == 401
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refresh.status_code == 401
    old = await api.client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    assert old.status_code == 401
    await api.login(password=NEW_PASSWORD)
    assert ("password_changed",) in await api.sql("SELECT kind FROM audit_entries")


async def test_a_wrong_current_password_is_403_and_a_weak_new_one_400(api):
    tokens = await api.signed_up()

    wrong = await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=bearer(tokens),
    )
    weak = await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "password"},
        headers=bearer(tokens),
    )

    assert wrong.status_code == 403
    assert wrong.json()["detail"] == "The password is wrong."
    assert weak.status_code == 400
    assert "too common" in weak.json()["detail"]
    await api.login()  # the password did not change


async def test_guessing_the_current_password_is_throttled(api):
    tokens = await api.signed_up()
    body = {"current_password": "not it at all", "new_password": NEW_PASSWORD}
    for _ in range(10):
        response = await api.client.post("/api/v1/users/me/password", json=body, headers=bearer(tokens))
        assert response.status_code == 403

    response = await api.client.post("/api/v1/users/me/password", json=body, headers=bearer(tokens))

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


async def test_erasing_my_account_publishes_one_deletion_and_forgets_me(api):
    tokens = await api.signed_up()
    user_id = tokens["user"]["id"]
    await api.login()

    response = await api.client.request(
        "DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=bearer(tokens)
    )

    assert response.status_code == 204
    deleted = await api.sql(
        "SELECT subject_id FROM outbox WHERE event_type = 'aiorch.identity.user.deleted.v1'"
    )
    assert deleted == [(user_id,)]
    for table in ("users", "sessions", "refresh_tokens", "one_time_tokens", "oidc_links"):
        assert await api.sql(f"SELECT count(*) FROM {table}") == [(0,)], table
    assert await api.sql(
        "SELECT count(*) FROM audit_entries WHERE user_id IS NOT NULL OR ip IS NOT NULL"
    ) == [(0,)]
    assert ("user_deleted",) in await api.sql("SELECT kind FROM audit_entries")
    assert (await api.client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 401
    login = await api.client.post(
        "/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert login.status_code == 401
    # the address is free again
    await api.register()


async def test_erasing_needs_my_password(api):
    tokens = await api.signed_up()

    wrong = await api.client.request(
        "DELETE", "/api/v1/users/me", json={"password": "nope"}, headers=bearer(tokens)
    )
    missing = await api.client.request("DELETE", "/api/v1/users/me", json={}, headers=bearer(tokens))

    assert (wrong.status_code, missing.status_code) == (403, 400)
    assert await api.sql("SELECT count(*) FROM users") == [(1,)]
    assert "aiorch.identity.user.deleted.v1" not in await api.outbox()


async def test_a_deactivated_accounts_tokens_stop_working_at_once(api):
    tokens = await api.signed_up()

    await api.sql("UPDATE users SET is_active = false")

    assert (await api.client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 401


async def test_a_token_already_in_use_is_refused_at_once_after_logout_deactivation_or_a_role_change(api):
    # Each token is used first, so its signature check is remembered: the session check is not.
    me = "/api/v1/users/me"
    logged_out = await api.signed_up("ada@example.org")
    deactivated = await api.signed_up("grace@example.org")
    promoted = await api.signed_up("alan@example.org")
    for tokens in (logged_out, deactivated, promoted):
        assert (await api.client.get(me, headers=bearer(tokens))).status_code == 200

    await api.client.post("/api/v1/auth/logout", json={"refresh_token": logged_out["refresh_token"]})
    await api.sql("UPDATE users SET is_active = false WHERE email = 'grace@example.org'")
    await api.sql("UPDATE users SET role = 'admin' WHERE email = 'alan@example.org'")

    for tokens in (logged_out, deactivated, promoted):
        response = await api.client.get(me, headers=bearer(tokens))
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_my_profile_is_read_afresh_on_every_request(api):
    tokens = await api.signed_up()
    assert (await api.client.get("/api/v1/users/me", headers=bearer(tokens))).json()["name"] is None

    await api.sql("UPDATE users SET name = 'Ada'")

    assert (await api.client.get("/api/v1/users/me", headers=bearer(tokens))).json()["name"] == "Ada"


async def test_a_token_whose_role_was_changed_since_is_refused(api):
    tokens = await api.signed_up()

    await api.sql("UPDATE users SET role = 'admin'")

    assert (await api.client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 401
    fresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    me = await api.client.get("/api/v1/users/me", headers=bearer(fresh.json()))
    assert me.json()["role"] == "admin"
