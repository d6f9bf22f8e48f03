"""``/api/v1/auth``: sign-up, login, refresh and logout over HTTP, against the real database."""

import asyncio

from services.identity.tests.integration.conftest import PASSWORD, bearer

PROBLEM = "application/problem+json"


def without_request_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "request_id"}


# -- register -------------------------------------------------------------------------------------


async def test_sign_up_creates_the_account_publishes_it_and_mails_a_verification_link(api):
    response = await api.client.post(
        "/api/v1/auth/register", json={"email": " Ada@Example.ORG ", "password": PASSWORD, "name": "Ada"}
    )

    assert response.status_code == 202
    assert set(response.json()) == {"detail"}
    assert "argon2" not in response.text
    rows = await api.sql("SELECT email, name, role, email_verified_at FROM users")
    assert rows == [("Ada@example.org", "Ada", "user", None)]
    assert await api.outbox() == ["aiorch.identity.user.registered.v1"]
    assert await api.sql("SELECT kind FROM audit_entries") == [("user_registered",)]
    (mail,) = await api.mails()
    assert mail["To"] == "Ada@example.org"
    token = await api.mailed_token()
    confirmed = await api.client.post("/api/v1/auth/verify-email/confirm", json={"token": token})
    assert confirmed.status_code == 204, confirmed.text


async def test_sign_up_with_a_taken_address_answers_alike_and_mails_its_owner(api):
    await api.register("ada@example.org")

    new = await api.client.post(
        "/api/v1/auth/register", json={"email": "bob@example.org", "password": PASSWORD}
    )
    taken = await api.client.post(
        "/api/v1/auth/register", json={"email": "ADA@example.org", "password": "another good passphrase"}
    )

    assert new.status_code == taken.status_code == 202
    assert new.content == taken.content
    assert await api.sql("SELECT count(*) FROM users") == [(2,)]
    assert await api.outbox() == ["aiorch.identity.user.registered.v1"] * 2
    subjects = {mail["To"]: mail["Subject"] for mail in await api.mails()}
    assert subjects["ada@example.org"] == "Someone tried to sign up to aiorch with your address"
    assert "Confirm" in subjects["bob@example.org"] or "confirm" in subjects["bob@example.org"]
    assert (
        await api.client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    ).status_code == 200  # the owner's password is untouched


async def test_a_setting_restores_the_409_for_a_taken_address(api, app_with):
    await api.register("ada@example.org")

    async with app_with(registration_reveals_existing="true") as client:
        response = await client.post(
            "/api/v1/auth/register", json={"email": "ADA@example.org", "password": PASSWORD}
        )

    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] == "An account with this email address already exists."
    assert await api.outbox() == ["aiorch.identity.user.registered.v1"]
    assert await api.mails() == []


async def test_one_client_is_limited_in_sign_ups_whatever_the_addresses(api, app_with):
    async with app_with(registration_max_per_client="3") as client:
        answers = [
            await client.post(
                "/api/v1/auth/register", json={"email": f"u{n}@example.org", "password": PASSWORD}
            )
            for n in range(4)
        ]

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert int(answers[-1].headers["retry-after"]) > 0
    assert answers[-1].headers["content-type"].startswith(PROBLEM)
    assert await api.sql("SELECT count(*) FROM users") == [(3,)]


async def test_a_weak_password_is_a_400_problem_with_the_reason(api):
    for password, reason in (
        ("short", "at least 8 characters"),
        ("password123", "too common"),
        ("x" * 129, "at most 128"),
    ):
        response = await api.client.post(
            "/api/v1/auth/register", json={"email": "ada@example.org", "password": password}
        )

        assert response.status_code == 400
        assert response.headers["content-type"].startswith(PROBLEM)
        assert reason in response.json()["detail"]
        assert password not in response.text
    assert await api.sql("SELECT count(*) FROM users") == [(0,)]


async def test_an_invalid_address_or_body_is_a_400_problem_naming_what_is_wrong(api):
    invalid = await api.client.post("/api/v1/auth/register", json={"email": "nobody", "password": PASSWORD})
    missing = await api.client.post("/api/v1/auth/register", json={"email": "ada@example.org"})
    unknown = await api.client.post(
        "/api/v1/auth/register", json={"email": "ada@example.org", "password": PASSWORD, "role": "admin"}
    )
    not_json = await api.client.post(
        "/api/v1/auth/register", content=b"{", headers={"content-type": "application/json"}
    )

    assert invalid.status_code == 400
    assert invalid.json()["detail"] == "The email address is not valid."
    assert missing.status_code == 400
    assert "`password`" in missing.json()["errors"][0]["message"]
    assert unknown.status_code == 400
    assert "unknown field `role`" in unknown.json()["errors"][0]["message"]
    assert not_json.status_code == 400
    assert await api.sql("SELECT count(*) FROM users") == [(0,)]


# -- login ----------------------------------------------------------------------------------------


async def test_login_answers_an_access_and_a_refresh_token_that_must_not_be_cached(api):
    await api.register()

    response = await api.client.post(
        "/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 900)
    assert response.headers["cache-control"] == "no-store"
    me = await api.client.get("/api/v1/users/me", headers=bearer(body))
    assert me.status_code == 200


async def test_unknown_address_wrong_password_and_deactivated_account_get_one_and_the_same_401(api):
    await api.register("ada@example.org")
    await api.register("gone@example.org")
    await api.sql("UPDATE users SET is_active = false WHERE email = 'gone@example.org'")

    answers = [
        await api.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        for email, password in (
            ("nobody@example.org", PASSWORD),
            ("ada@example.org", "not the password"),
            ("gone@example.org", PASSWORD),
        )
    ]

    assert {a.status_code for a in answers} == {401}
    assert all(a.headers["content-type"].startswith(PROBLEM) for a in answers)
    assert all(a.headers["www-authenticate"] == "Bearer" for a in answers)
    bodies = [without_request_id(a.json()) for a in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert await api.sql("SELECT count(*) FROM sessions") == [(0,)]


async def test_the_eleventh_failed_login_on_an_account_is_429_with_retry_after(api):
    await api.register()
    for _ in range(10):
        response = await api.client.post(
            "/api/v1/auth/login", json={"email": "ada@example.org", "password": "wrong!"}
        )
        assert response.status_code == 401

    eleventh = await api.client.post(
        "/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
    )

    assert eleventh.status_code == 429
    assert eleventh.headers["content-type"].startswith(PROBLEM)
    assert 890 <= int(eleventh.headers["retry-after"]) <= 900
    assert ("login_throttled",) in await api.sql("SELECT kind FROM audit_entries")


async def test_a_locked_account_is_indistinguishable_from_a_hammered_unknown_address(api):
    await api.register()
    answers = {}
    for email in ("ada@example.org", "nobody@example.org"):
        for _ in range(10):
            await api.client.post("/api/v1/auth/login", json={"email": email, "password": "wrong!"})
        answers[email] = await api.client.post(
            "/api/v1/auth/login", json={"email": email, "password": "wrong!"}
        )

    known, unknown = answers.values()
    assert known.status_code == unknown.status_code == 429
    assert without_request_id(known.json()) == without_request_id(unknown.json())


async def test_successful_logins_do_not_count_against_the_client_address(api, app_with):
    await api.register()
    counted = await api.sql("SELECT count(*) FROM attempts")  # the sign-up, counted per client
    async with app_with(login_max_failures_per_address="2") as client:
        for _ in range(4):
            ok = await client.post(
                "/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
            )
            assert ok.status_code == 200
    assert await api.sql("SELECT count(*) FROM attempts") == counted


async def test_one_client_address_is_throttled_across_accounts(app_with):
    async with app_with(login_max_failures_per_address="3") as client:
        for n in range(3):
            answer = await client.post(
                "/api/v1/auth/login", json={"email": f"u{n}@example.org", "password": "x"}
            )
            assert answer.status_code == 401

        fourth = await client.post("/api/v1/auth/login", json={"email": "fresh@example.org", "password": "x"})

    assert fourth.status_code == 429
    assert int(fourth.headers["retry-after"]) > 0


async def test_a_hash_made_with_older_parameters_is_upgraded_at_login(api, app_with):
    await api.register()
    (before,) = await api.sql("SELECT password_hash FROM users")

    async with app_with(argon2_memory_kib="2048") as client:
        response = await client.post(
            "/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
        )

    assert response.status_code == 200
    (after,) = await api.sql("SELECT password_hash FROM users")
    assert "m=1024" in before[0]
    assert "m=2048" in after[0]


# -- refresh --------------------------------------------------------------------------------------


async def refresh(api, refresh_token: str):
    return await api.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def test_a_refresh_answers_a_new_pair_and_spends_the_old_token(api):
    first = await api.signed_up()

    second = await refresh(api, first["refresh_token"])

    assert second.status_code == 200
    assert second.headers["cache-control"] == "no-store"
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert (await api.client.get("/api/v1/users/me", headers=bearer(pair))).status_code == 200
    assert (await refresh(api, pair["refresh_token"])).status_code == 200


async def test_reusing_a_spent_refresh_token_is_401_and_revokes_the_whole_family(api):
    rt1 = await api.signed_up()
    rt2 = (await refresh(api, rt1["refresh_token"])).json()

    reuse = await refresh(api, rt1["refresh_token"])

    assert reuse.status_code == 401
    assert reuse.headers["content-type"].startswith(PROBLEM)
    assert (await refresh(api, rt2["refresh_token"])).status_code == 401
    assert (await api.client.get("/api/v1/users/me", headers=bearer(rt2))).status_code == 401
    assert await api.sql("SELECT revoke_reason FROM sessions") == [("refresh_reuse",)]
    assert ("refresh_reuse_detected",) in await api.sql("SELECT kind FROM audit_entries")


async def test_of_fifty_concurrent_refreshes_with_one_token_exactly_one_succeeds(api):
    tokens = await api.signed_up()

    answers = await asyncio.gather(*(refresh(api, tokens["refresh_token"]) for _ in range(50)))

    codes = [answer.status_code for answer in answers]
    assert codes.count(200) == 1
    assert codes.count(401) == 49
    assert await api.sql("SELECT count(*) FROM refresh_tokens") == [(2,)]


async def test_an_unknown_or_malformed_refresh_token_is_refused(api):
    await api.signed_up()

    unknown = await refresh(api, "never-issued")
    empty = await refresh(api, "")
    missing = await api.client.post("/api/v1/auth/refresh", json={})

    assert unknown.status_code == 401
    assert unknown.json()["detail"] == "The refresh token is invalid, expired or revoked."
    assert (empty.status_code, missing.status_code) == (400, 400)


async def test_an_idle_session_or_a_deactivated_account_cannot_refresh(api):
    idle = await api.signed_up("idle@example.org")
    inactive = await api.signed_up("inactive@example.org")
    await api.sql(
        "UPDATE sessions SET last_used_at = now() - interval '8 days' WHERE user_id = :id",
        id=idle["user"]["id"],
    )
    await api.sql("UPDATE users SET is_active = false WHERE email = 'inactive@example.org'")

    assert (await refresh(api, idle["refresh_token"])).status_code == 401
    assert (await refresh(api, inactive["refresh_token"])).status_code == 401


# -- logout ---------------------------------------------------------------------------------------


async def test_logout_ends_the_session_at_once_and_may_be_repeated(api):
    tokens = await api.signed_up()

    first = await api.client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    again = await api.client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    unknown = await api.client.post("/api/v1/auth/logout", json={"refresh_token": "never-issued"})

    assert (first.status_code, again.status_code, unknown.status_code) == (204, 204, 204)
    assert (await refresh(api, tokens["refresh_token"])).status_code == 401
    assert (await api.client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 401
    assert await api.sql("SELECT revoke_reason FROM sessions") == [("logout",)]


async def test_logout_without_a_token_is_a_400_problem(api):
    response = await api.client.post("/api/v1/auth/logout", json={})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
