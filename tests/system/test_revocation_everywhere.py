"""A revoked session, a changed role, a deactivated or deleted account: chat and orchestrator
refuse the access token (or see the new role) within a second, not when it expires, and a
chat API process that restarts does so as soon as it reports ready.

Runs the real processes as ``make up`` starts them, on a private cluster (the ``cluster``
fixture). Each trigger is timed from identity's answer to the first answer of each service
that reflects it; the delays are printed (p50, p99, max), never asserted (a shared 2-core
machine): the test only waits for the effect, up to a few seconds.
"""

from __future__ import annotations

import os
import signal
import statistics
import time
from collections.abc import Callable

import httpx

from .conftest import PrivateCluster, dead, mailed_link, mails

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"
RESET_PASSWORD = "yet another passphrase"
ADMIN = ("root@example.org", "admin passphrase for tests")
VERIFIERS = ("chat", "orchestrator")
WAIT_S = 5.0
MAX_SESSIONS = 3


class Api:
    def __init__(self, cluster: PrivateCluster) -> None:
        self.cluster = cluster
        self.http = httpx.Client(timeout=10)
        self.delays: dict[str, list[float]] = {}

    def url(self, service: str, path: str) -> str:
        return self.cluster.url(service, path)

    def call(self, method: str, path: str, token: str | None = None, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, self.url("identity", path), headers=headers, **kwargs)  # type: ignore[arg-type]

    def register(self, address: str) -> str:
        answer = self.call("POST", "/api/v1/auth/register", json={"email": address, "password": PASSWORD})
        assert answer.status_code == 202, answer.text  # the same answer for any address: no id
        pair = self.log_in(address)
        me = self.call("GET", "/api/v1/users/me", pair["access_token"])
        ok(me, 200)
        ok(self.call("POST", "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}))
        return str(me.json()["id"])

    def log_in(self, address: str, password: str = PASSWORD) -> dict[str, str]:
        answer = self.call("POST", "/api/v1/auth/login", json={"email": address, "password": password})
        assert answer.status_code == 200, answer.text
        tokens: dict[str, str] = answer.json()
        return tokens

    def whoami(self, service: str, token: str) -> httpx.Response:
        return self.http.get(
            self.url(service, "/api/v1/whoami"), headers={"Authorization": f"Bearer {token}"}
        )

    def accepted(self, token: str, role: str = "user") -> None:
        for service in VERIFIERS:
            answer = self.whoami(service, token)
            assert answer.status_code == 200, f"{service}: {answer.text}"
            assert answer.json()["role"] == role

    def takes_effect(
        self, trigger: str, token: str, act: Callable[[], None], *, seen: Callable[[httpx.Response], bool]
    ) -> None:
        """Run ``act`` (identity answers), then poll both services until each shows the effect."""
        act()
        acted = time.monotonic()
        pending = set(VERIFIERS)
        while pending:
            for service in sorted(pending):
                if seen(self.whoami(service, token)):
                    self.delays.setdefault(trigger, []).append(time.monotonic() - acted)
                    pending.discard(service)
            assert time.monotonic() - acted < WAIT_S, f"{trigger}: {sorted(pending)} still show no effect"
            time.sleep(0.005)

    def refused_after(self, trigger: str, token: str, act: Callable[[], None]) -> None:
        self.accepted(token)
        self.takes_effect(trigger, token, act, seen=lambda answer: answer.status_code == 401)


def ok(answer: httpx.Response, status: int = 204) -> None:
    assert answer.status_code == status, answer.text


def chat_api_pid(cluster: PrivateCluster) -> int:
    return int(cluster.processes()["chat-api"]["pid"])


def restart_chat_api(cluster: PrivateCluster) -> int:
    """SIGKILL chat's API process; return its pid once it is gone (the supervisor restarts it)."""
    pid = chat_api_pid(cluster)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not dead(pid):
        assert time.monotonic() < deadline, "chat's API process survived SIGKILL"
        time.sleep(0.02)
    return pid


def test_every_revocation_reaches_chat_and_orchestrator_within_a_second(cluster: PrivateCluster) -> None:
    cluster.env["IDENTITY_KEYS_DIR"] = str(cluster.state_dir / "identity-keys")
    cluster.env["IDENTITY_MAIL_DIR"] = str(mail_dir := cluster.state_dir / "mail")
    cluster.env["IDENTITY_MAX_SESSIONS_PER_USER"] = str(MAX_SESSIONS)
    cluster.env["AIORCH_ADMIN_EMAIL"], cluster.env["AIORCH_ADMIN_PASSWORD"] = ADMIN
    up = cluster.make("up", timeout=180)
    assert up.returncode == 0, up.stdout + up.stderr
    api = Api(cluster)
    ada, bob, cy = "ada@example.org", "bob@example.org", "cy@example.org"
    api.register(ada)
    bob_id = api.register(bob)
    api.register(cy)
    admin = api.log_in(*ADMIN)["access_token"]

    # logout
    pair = api.log_in(ada)
    api.refused_after(
        "logout",
        pair["access_token"],
        lambda: ok(api.call("POST", "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})),
    )

    # revoking one session (with its own token)
    pair = api.log_in(ada)
    session_id = api.whoami("chat", pair["access_token"]).json()["session_id"]
    path = f"/api/v1/auth/sessions/{session_id}"
    api.refused_after(
        "revoke one session", pair["access_token"], lambda: ok(api.call("DELETE", path, pair["access_token"]))
    )

    # revoking the others: the current session keeps working
    other, current = api.log_in(ada), api.log_in(ada)
    api.refused_after(
        "revoke other sessions",
        other["access_token"],
        lambda: ok(api.call("DELETE", "/api/v1/auth/sessions/", current["access_token"])),
    )
    api.accepted(current["access_token"])

    # refresh-token reuse: the whole session goes, the newest access token with it
    first = api.log_in(ada)
    second = api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    api.refused_after(
        "refresh-token reuse",
        second["access_token"],
        lambda: ok(
            api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}), 401
        ),
    )

    # password change: every other session ends, the one that changed it stays
    other, current = api.log_in(ada), api.log_in(ada)
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    api.refused_after(
        "password change",
        other["access_token"],
        lambda: ok(api.call("POST", "/api/v1/users/me/password", current["access_token"], json=change)),
    )
    api.accepted(current["access_token"])

    # password reset: every session ends
    pair = api.log_in(ada, NEW_PASSWORD)
    before = mails(mail_dir)
    ok(api.call("POST", "/api/v1/auth/password-reset", json={"email": ada}), 202)
    token = mailed_link(mail_dir, ada, "reset-password", since=before).split("#token=", 1)[1]
    confirm = {"token": token, "new_password": RESET_PASSWORD}
    api.refused_after(
        "password reset",
        pair["access_token"],
        lambda: ok(api.call("POST", "/api/v1/auth/password-reset/confirm", json=confirm)),
    )

    # the session limit: a login past it ends the least recently used session
    oldest = api.log_in(bob)
    for _ in range(MAX_SESSIONS - 1):
        api.log_in(bob)
    api.refused_after("session limit", oldest["access_token"], lambda: api.log_in(bob) and None)

    # a role change: tokens issued before it carry the new role, both ways
    bob_token = api.log_in(bob)["access_token"]
    user_path = f"/api/v1/admin/users/{bob_id}"
    api.accepted(bob_token, "user")
    api.takes_effect(
        "role change (promotion)",
        bob_token,
        lambda: ok(api.call("PATCH", user_path, admin, json={"role": "admin"}), 200),
        seen=lambda answer: answer.status_code == 200 and answer.json()["role"] == "admin",
    )
    api.takes_effect(
        "role change (demotion)",
        bob_token,
        lambda: ok(api.call("PATCH", user_path, admin, json={"role": "user"}), 200),
        seen=lambda answer: answer.status_code == 200 and answer.json()["role"] == "user",
    )

    # deactivation
    api.refused_after(
        "deactivation",
        bob_token,
        lambda: ok(api.call("PATCH", user_path, admin, json={"is_active": False}), 200),
    )

    # deletion (by the owner)
    cy_token = api.log_in(cy)["access_token"]
    api.refused_after(
        "deletion",
        cy_token,
        lambda: ok(api.call("DELETE", "/api/v1/users/me/", cy_token, json={"password": PASSWORD})),
    )

    # a revocation while chat's API process is down is refused as soon as it is ready again
    pair = api.log_in(ada, RESET_PASSWORD)
    api.accepted(pair["access_token"])
    killed = restart_chat_api(cluster)
    killed_at = time.monotonic()
    ok(api.call("POST", "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}))
    # the supervisor restarts it after a back-off (1 s after a short life): not yet
    assert chat_api_pid(cluster) == killed, "chat's API process was back before the logout"
    deadline = time.monotonic() + 60
    while True:
        try:
            ready = api.http.get(api.url("chat", "/health/ready"), timeout=2).status_code == 200
        except httpx.TransportError:
            ready = False
        if ready:
            ready_at = time.monotonic()
            break
        assert time.monotonic() < deadline, "chat's API process did not come back ready"
        time.sleep(0.05)
    assert chat_api_pid(cluster) != killed
    answer = api.whoami("chat", pair["access_token"])
    assert answer.status_code == 401, answer.text
    assert api.whoami("orchestrator", pair["access_token"]).status_code == 401

    report(api.delays)
    print(
        f"  chat's API process killed, revoked meanwhile, ready again after {ready_at - killed_at:.2f} s:"
        " the revoked token refused at its first request"
    )


def report(delays: dict[str, list[float]]) -> None:
    every = sorted(d for values in delays.values() for d in values)
    print("\nrevocation delay, identity's answer -> chat and orchestrator refuse (or see the new role):")
    for trigger, values in delays.items():
        print(f"  {trigger:<26} " + "  ".join(f"{v * 1000:7.1f} ms" for v in values))
    p99 = every[min(len(every) - 1, round(0.99 * (len(every) - 1)))]
    print(
        f"  all {len(every)}: p50 {statistics.median(every) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms,"
        f" max {every[-1] * 1000:.1f} ms"
    )
