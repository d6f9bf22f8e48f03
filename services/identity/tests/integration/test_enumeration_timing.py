"""An attacker cannot tell a registered email from an unknown one by the answer's time.

Login, password reset and sign-up for an existing and an unknown address are sent alternately,
100 of each, through the real app at the real argon2id parameters; their median times
must be within 20% of each other. Medians of interleaved samples cancel the machine's
own drift, which keeps this a comparison, not a timing threshold.
"""

import asyncio
import statistics
import time

from identity.entrypoints.http.dependencies import PORTS

from .conftest import PASSWORD

ATTEMPTS = 100
REAL_ARGON2 = {"argon2_memory_kib": "19456", "argon2_time_cost": "2", "argon2_parallelism": "1"}
NO_LOCKOUT = {
    "login_max_failures_per_account": "100000",
    "login_max_failures_per_address": "100000",
    "login_account_slowdown_after": "100000",
    "mail_max_requests_per_client": "100000",
    "registration_max_per_client": "100000",
}


async def _median_ms(client, path, bodies):
    timings = {name: [] for name in bodies}
    answers = {}
    for _ in range(ATTEMPTS):
        for name, body in bodies.items():
            started = time.perf_counter()
            response = await client.post(path, json=body)
            timings[name].append((time.perf_counter() - started) * 1000)
            answers[name] = (response.status_code, response.content)
            await _settle(client)
    return {name: statistics.median(t) for name, t in timings.items()}, answers


async def test_login_for_existing_and_unknown_email_answers_alike_in_the_same_time(app_with):
    async with app_with(**REAL_ARGON2, **NO_LOCKOUT) as client:
        registered = await client.post(
            "/api/v1/auth/register", json={"email": "ada@example.org", "password": PASSWORD}
        )
        assert registered.status_code == 202
        medians, answers = await _median_ms(
            client,
            "/api/v1/auth/login",
            {
                "existing": {"email": "ada@example.org", "password": "wrong password here"},
                "unknown": {"email": "nobody@example.org", "password": "wrong password here"},
            },
        )
    assert answers["existing"][0] == answers["unknown"][0] == 401
    assert _without_instance_ids(answers["existing"][1]) == _without_instance_ids(answers["unknown"][1])
    assert abs(medians["existing"] - medians["unknown"]) / max(medians.values()) < 0.20, medians


async def test_password_reset_for_existing_and_unknown_email_answers_alike_in_the_same_time(app_with):
    async with app_with(**REAL_ARGON2, **NO_LOCKOUT) as client:
        registered = await client.post(
            "/api/v1/auth/register", json={"email": "ada@example.org", "password": PASSWORD}
        )
        assert registered.status_code == 202
        medians, answers = await _median_ms(
            client,
            "/api/v1/auth/password-reset",
            {"existing": {"email": "ada@example.org"}, "unknown": {"email": "nobody@example.org"}},
        )
    assert answers["existing"] == answers["unknown"]
    assert answers["existing"][0] == 202
    assert abs(medians["existing"] - medians["unknown"]) / max(medians.values()) < 0.20, medians


async def test_sign_up_with_a_taken_and_a_new_address_answers_alike_in_the_same_time(app_with):
    async with app_with(**REAL_ARGON2, **NO_LOCKOUT) as client:
        registered = await client.post(
            "/api/v1/auth/register", json={"email": "ada@example.org", "password": PASSWORD}
        )
        assert registered.status_code == 202
        timings: dict[str, list[float]] = {"taken": [], "new": []}
        answers = {}
        for n in range(ATTEMPTS):
            for name, email in (("taken", "ada@example.org"), ("new", f"new{n}@example.org")):
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
                )
                timings[name].append((time.perf_counter() - started) * 1000)
                answers[name] = (response.status_code, response.content)
                await _settle(client)
    medians = {name: statistics.median(t) for name, t in timings.items()}
    print(f"sign-up median ms: taken {medians['taken']:.1f}, new {medians['new']:.1f}")
    assert answers["taken"] == answers["new"]
    assert answers["taken"][0] == 202
    assert abs(medians["taken"] - medians["new"]) / max(medians.values()) < 0.20, medians


async def _settle(client):
    """Let the work a request left for after its answer finish, untimed, before the next one."""
    ports = client.app.state[PORTS]
    await asyncio.to_thread(client.blocking_portal.call, ports.background.drain)
    await asyncio.to_thread(client.blocking_portal.call, ports.mailer.drain)


def _without_instance_ids(body: bytes) -> bytes:
    """Problem bodies carry the request's own id; everything else must be identical."""
    import json

    document = json.loads(body)
    document.pop("request_id", None)
    return json.dumps(document, sort_keys=True).encode()
