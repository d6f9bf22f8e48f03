"""Password reset and email verification over HTTP, with the mail the local cluster writes."""

from services.identity.tests.integration.conftest import bearer

NEW_PASSWORD = "a brand new passphrase"


def without_request_id(response) -> dict:
    return {k: v for k, v in response.json().items() if k != "request_id"}


async def test_reset_answers_alike_for_a_known_and_an_unknown_address(api):
    await api.register()

    known = await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})
    unknown = await api.client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known.headers["content-type"] == unknown.headers["content-type"]
    mails = await api.mails()
    assert [m["To"] for m in mails] == ["ada@example.org"]
    assert await api.sql("SELECT count(*) FROM one_time_tokens") == [(1,)]


async def test_the_mailed_link_resets_the_password_once_and_ends_every_session(api):
    tokens = await api.signed_up()
    await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})
    token = await api.mailed_token()
    (digest,) = await api.sql("SELECT digest FROM one_time_tokens")
    assert token.encode() not in bytes(digest[0])

    first = await api.client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    again = await api.client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "yet another passphrase"}
    )

    assert first.status_code == 204
    assert again.status_code == 400
    assert again.json()["detail"] == "The token is invalid, expired or already used."
    assert (await api.client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 401
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    me = await api.client.get("/api/v1/users/me", headers=bearer(await api.login(password=NEW_PASSWORD)))
    assert me.json()["email_verified"] is True


async def test_an_expired_or_made_up_token_or_a_weak_password_is_refused(api):
    await api.register()
    await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})
    token = await api.mailed_token()

    weak = await api.client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "password"}
    )
    made_up = await api.client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": "made-up", "new_password": NEW_PASSWORD}
    )
    await api.sql("UPDATE one_time_tokens SET expires_at = now() - interval '1 second'")
    expired = await api.client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )

    assert weak.status_code == 400
    assert "too common" in weak.json()["detail"]
    assert made_up.status_code == expired.status_code == 400
    assert without_request_id(made_up)["detail"] == without_request_id(expired)["detail"]
    await api.login()  # unchanged


async def test_a_malformed_reset_request_is_a_400_problem(api):
    missing = await api.client.post("/api/v1/auth/password-reset", json={})
    confirm = await api.client.post("/api/v1/auth/password-reset/confirm", json={"token": "x"})

    assert (missing.status_code, confirm.status_code) == (400, 400)
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_the_reset_mail_carries_the_link_and_nothing_the_user_typed(api):
    await api.register(name="<script>alert(1)</script>")
    await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})

    (mail,) = await api.mails()

    assert mail["Subject"] == "Reset your aiorch password"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "http://127.0.0.1:8001/reset-password#token=" in text
    assert "script" not in mail.as_string()


async def test_email_verification_mails_a_link_that_verifies_my_address(api):
    tokens = await api.signed_up()

    sent = await api.client.post("/api/v1/auth/verify-email", headers=bearer(tokens))
    token = await api.mailed_token()
    confirm = await api.client.post("/api/v1/auth/verify-email/confirm", json={"token": token})
    reused = await api.client.post("/api/v1/auth/verify-email/confirm", json={"token": token})
    again = await api.client.post("/api/v1/auth/verify-email", headers=bearer(tokens))

    assert sent.status_code == 202
    assert confirm.status_code == 204
    assert reused.status_code == 400
    assert again.status_code == 409
    me = await api.client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.json()["email_verified"] is True
    assert ("email_verified",) in await api.sql("SELECT kind FROM audit_entries")


async def test_asking_for_verification_needs_a_token(api):
    response = await api.client.post("/api/v1/auth/verify-email")

    assert response.status_code == 401


async def test_an_address_gets_at_most_three_links_in_fifteen_minutes_whatever_is_asked(api):
    await api.register()

    reset = {"email": "ada@example.org"}
    answers = [await api.client.post("/api/v1/auth/password-reset", json=reset) for _ in range(5)]

    assert [a.status_code for a in answers] == [202] * 5
    assert len({a.content for a in answers}) == 1
    assert len(await api.mails()) == 3
    throttled = "SELECT count(*) FROM audit_entries WHERE details->>'throttled' = 'true'"
    assert await api.sql(throttled) == [(2,)]


async def test_a_client_asking_for_too_many_links_gets_429_whatever_the_addresses(api, app_with):
    await api.register()
    async with app_with(mail_max_requests_per_client="2") as client:
        for email in ("ada@example.org", "nobody@example.org"):
            answer = await client.post("/api/v1/auth/password-reset", json={"email": email})
            assert answer.status_code == 202
        known = await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})
        unknown = await client.post("/api/v1/auth/password-reset", json={"email": "someone@example.org"})

    assert known.status_code == unknown.status_code == 429
    assert without_request_id(known) == without_request_id(unknown)
    assert known.headers["content-type"] == "application/problem+json"
    assert int(known.headers["retry-after"]) > 0
    assert "Too many requests for mailed links" in known.json()["detail"]
