"""Secrets canary: a known password and the tokens it yields, exercised through every path, appear
in no log line, no event and no response but the token responses themselves."""

import msgspec
from services.identity.tests.integration.conftest import bearer
from structlog.testing import capture_logs

CANARY = "canary-passphrase-7d1e"
NEW_CANARY = "canary-passphrase-new-93b2"


async def test_no_password_or_token_leaks_into_logs_events_or_other_responses(api):
    answers = []
    with capture_logs() as logs:
        answers.append(
            await api.client.post(
                "/api/v1/auth/register", json={"email": "ada@example.org", "password": CANARY}
            )
        )
        tokens = await api.login(password=CANARY)
        answers.append(
            await api.client.post(
                "/api/v1/auth/login", json={"email": "ada@example.org", "password": "x" + CANARY}
            )
        )
        refreshed = (
            await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        ).json()
        answers.append(
            await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        )
        tokens = await api.login(password=CANARY)
        answers.append(await api.client.get("/api/v1/users/me", headers=bearer(tokens)))
        answers.append(await api.client.get("/api/v1/auth/sessions", headers=bearer(tokens)))
        answers.append(
            await api.client.post(
                "/api/v1/users/me/password",
                json={"current_password": CANARY, "new_password": NEW_CANARY},
                headers=bearer(tokens),
            )
        )
        answers.append(
            await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org"})
        )
        reset_token = await api.mailed_token()
        answers.append(
            await api.client.post(
                "/api/v1/auth/password-reset/confirm", json={"token": reset_token, "new_password": CANARY}
            )
        )
        tokens = await api.login(password=CANARY)
        answers.append(
            await api.client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
        )
        tokens = await api.login(password=CANARY)
        answers.append(
            await api.client.request(
                "DELETE", "/api/v1/users/me", json={"password": CANARY}, headers=bearer(tokens)
            )
        )

    secrets = [
        CANARY,
        NEW_CANARY,
        reset_token,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["refresh_token"],
    ]
    logged = repr(logs)
    events = repr(
        [msgspec.json.decode(payload) for (payload,) in await api.sql("SELECT payload FROM outbox")]
    )
    audit = repr(await api.sql("SELECT * FROM audit_entries"))
    bodies = " ".join(answer.text for answer in answers)
    for secret in secrets:
        for where, text in (("logs", logged), ("events", events), ("audit", audit), ("responses", bodies)):
            assert secret not in text, f"a secret appears in the {where}"
    assert len(logs) > 0
    assert "user.deleted" in events
