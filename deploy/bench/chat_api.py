"""What ``make bench``'s chat steps share: a chat API process of their own, users, the budgets.

``chat_streams.py`` and ``chat_post.py`` each start ONE chat API process (``aiorch-chat api``,
one uvicorn worker serving in-process) beside the private cluster's, against the same database
and NATS, with the settings the measurement needs (the offline model's pace, the access log):
the cluster's own chat API keeps ``make up``'s settings for the other steps. The process is
stopped when the step ends, whatever happens.

The budgets (``chat.budget.*``, 200 messages a day by default) would refuse the runs' messages
with 429: :func:`raise_budgets` sets them as an admin would, through orchestrator's
``PUT /api/v1/settings`` as the local cluster's first admin, and waits until chat's replica of
the settings says so (``GET /api/v1/usage``).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
from bench import API, JSON, BenchError, loopback, ports

from shared.db.provision import service_url

REPO: Final = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy" / "local"))
# the marker `cluster.py down` finds the cluster's processes by, and the local cluster's first
# admin, which identity creates at start (deploy/local/README.md)
from cluster_config import MARKER_ENV  # type: ignore[import-not-found]  # noqa: E402
from cluster_supervisor import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD  # type: ignore[import-not-found]  # noqa: E402

MESSAGES_PER_WINDOW: Final = 100_000  # the settings' maxima
TOKENS_PER_WINDOW: Final = 100_000_000
READY_TIMEOUT_S: Final = 40.0


@dataclass(frozen=True)
class Cluster:
    """The private cluster bench.sh started: where its state is and where its servers listen."""

    state_dir: Path
    pg_port: int
    nats_port: int
    identity: str
    orchestrator: str

    def marker(self) -> dict[str, str]:
        """The variable marking a process as the cluster's: if a step is killed before it stops
        its own processes, `cluster.py down` (bench.sh's clean-up) stops them with the rest."""
        return {MARKER_ENV: str(self.state_dir.expanduser().resolve())}

    def chat_database_url(self) -> str:
        try:
            password = json.loads((self.state_dir / "secrets.json").read_text())["chat"]
        except (OSError, ValueError, KeyError) as exc:
            raise BenchError(f"no chat role password in {self.state_dir}/secrets.json: {exc}") from None
        return service_url(f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgres", "chat", password)


@dataclass
class ChatApi:
    """A running chat API process of the bench's own."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def _environment(cluster: Cluster, port: int, settings: Mapping[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CHAT_", "AIORCH_")) and name not in ("DATABASE_URL", "NATS_URL")
    }
    env.pop("PYTHONUNBUFFERED", None)  # as the cluster runs the services: logs flushed in batches
    env.update(
        {
            "CHAT_DATABASE_URL": cluster.chat_database_url(),
            "CHAT_NATS_URL": f"nats://127.0.0.1:{cluster.nats_port}",
            "CHAT_HTTP_HOST": "127.0.0.1",
            "CHAT_HTTP_PORT": str(port),
            "CHAT_HTTP_WORKERS": "1",
            "AIORCH_JWT_ISSUER": cluster.identity,
            "AIORCH_JWKS_URL": f"{cluster.identity}/.well-known/jwks.json",
            "AIORCH_MODEL_SEAL_KEY_FILE": str(cluster.state_dir / "model-seal-key.json"),
            "CHAT_BLOB_DIR": str(cluster.state_dir / "chat-blobs"),
            "LOG_LEVEL": "INFO",
            **cluster.marker(),
            **settings,
        }
    )
    return env


def exit_on_sigterm() -> None:
    """SIGTERM (bench.sh's ``timeout``) raises ``SystemExit``: the ``finally`` clauses that stop
    the step's own processes run."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


@contextmanager
def chat_api(cluster: Cluster, out: Path, name: str, settings: Mapping[str, str]) -> Iterator[ChatApi]:
    """A chat API process (``settings``: its extra ``CHAT_*`` variables), ready; stopped on exit.

    Its output goes to ``<out>/<name>.log``.
    """
    port = ports(1)[0]
    log = out / f"{name}.log"
    executable = Path(sys.executable).with_name("aiorch-chat")
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(executable), "api"],
            env=_environment(cluster, port, settings),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        api = ChatApi(process, f"http://127.0.0.1:{port}", log)
        try:
            _wait_ready(api)
            yield api
        finally:
            _stop(process)


@contextmanager
def bare_server(
    script: str, out: Path, log_name: str, marker: Mapping[str, str], settings: Mapping[str, str]
) -> Iterator[tuple[str, int]]:
    """One of the bench's bare apps (``script``, beside this module) on one uvicorn worker,
    listening: its base URL and pid. ``settings``: its ``BARE_*`` variables. Stopped on exit;
    its output goes to ``<out>/<log_name>``."""
    port = ports(1)[0]
    env = {**os.environ, **marker, **settings, "BARE_PORT": str(port), "BARE_WORKERS": "1"}
    with (out / log_name).open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name(script))],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    raise BenchError(f"{script} exited with {process.returncode} (see {log_name})")
                try:
                    httpx.get(f"{url}/", timeout=1)  # any answer (404) means it listens
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise BenchError(f"{script} did not listen within {READY_TIMEOUT_S:.0f} s") from None
                    time.sleep(0.2)
            yield url, process.pid
        finally:
            _stop(process)


def _wait_ready(api: ChatApi) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer"
    while time.monotonic() < deadline:
        if api.process.poll() is not None:
            raise BenchError(f"the chat API exited with {api.process.returncode}: {_tail(api.log)}")
        try:
            answer = httpx.get(f"{api.url}/health/ready", timeout=2)
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        else:
            if answer.status_code == 200:
                return
            last = f"{answer.status_code}: {answer.text[:200]}"
        time.sleep(0.2)
    raise BenchError(f"the chat API was not ready within {READY_TIMEOUT_S:.0f} s ({last}): {_tail(api.log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _tail(path: Path, lines: int = 15) -> str:
    with suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _explain(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.path} answered {response.status_code}: {response.text[:300]}"


def register(identity: str, count: int, *, at_least: int | None = None, at_once: int = 4) -> list[str]:
    """New users, registered and logged in through identity's API (``at_once`` at a time, as
    identity hashes passwords on every core): their access tokens.

    identity takes 20 sign-ups per client IP and window unless told otherwise (bench.sh raises
    ``IDENTITY_REGISTRATION_MAX_PER_CLIENT`` for its cluster). With ``at_least``, a refused
    sign-up (429) ends the registering once that many users exist: the caller makes do.
    """
    needed = count if at_least is None else at_least

    async def one(client: httpx.AsyncClient, gate: asyncio.Semaphore) -> str | None:
        email = f"bench-chat-{secrets.token_hex(6)}@example.com"
        password = secrets.token_urlsafe(18)
        async with gate:
            registered = await client.post(
                "/auth/register", json={"email": email, "password": password, "name": "Bench chat"}
            )
            if registered.status_code == 429:
                return None
            if registered.status_code != 202:
                raise BenchError(_explain(registered))
            body = json.dumps({"email": email, "password": password})
            logged_in = await client.post("/auth/login", content=body, headers=JSON)
        if logged_in.status_code != 200:
            raise BenchError(_explain(logged_in))
        return str(logged_in.json()["access_token"])

    async def all_of_them() -> list[str | None]:
        gate = asyncio.Semaphore(at_once)
        async with httpx.AsyncClient(base_url=f"{loopback(identity)}{API}", timeout=60) as client:
            return list(await asyncio.gather(*(one(client, gate) for _ in range(count))))

    tokens = [token for token in asyncio.run(all_of_them()) if token is not None]
    if len(tokens) < needed:
        raise BenchError(
            f"identity refused sign-ups after {len(tokens)} of {needed} users (429: too many from this"
            " IP; IDENTITY_REGISTRATION_MAX_PER_CLIENT raises the limit)"
        )
    return tokens


def user_id(identity: str, token: str) -> str:
    me = httpx.get(
        f"{loopback(identity)}{API}/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    if me.status_code != 200:
        raise BenchError(_explain(me))
    return str(me.json()["id"])


def raise_budgets(cluster: Cluster, chat: str, token: str, timeout_s: float = 20.0) -> None:
    """Messages and tokens per window at their maxima, as the cluster's admin; returns once chat's
    replica applies them (``token``: any user's, to read chat's ``/usage``)."""
    with httpx.Client(base_url=f"{loopback(cluster.identity)}{API}", timeout=30) as client:
        logged_in = client.post(
            "/auth/login", json={"email": DEFAULT_ADMIN_EMAIL, "password": DEFAULT_ADMIN_PASSWORD}
        )
        if logged_in.status_code != 200:
            raise BenchError(f"the cluster's first admin could not log in: {_explain(logged_in)}")
        admin = str(logged_in.json()["access_token"])
    changed = httpx.put(
        f"{loopback(cluster.orchestrator)}{API}/settings",
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "values": {
                "chat.budget.messages_per_window": MESSAGES_PER_WINDOW,
                "chat.budget.tokens_per_window": TOKENS_PER_WINDOW,
            }
        },
        timeout=30,
    )
    if changed.status_code != 200:
        raise BenchError(_explain(changed))
    deadline = time.monotonic() + timeout_s
    limits = None
    while time.monotonic() < deadline:
        usage = httpx.get(
            f"{loopback(chat)}{API}/usage", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        if usage.status_code != 200:
            raise BenchError(_explain(usage))
        limits = (usage.json()["messages"]["limit"], usage.json()["tokens"]["limit"])
        if limits == (MESSAGES_PER_WINDOW, TOKENS_PER_WINDOW):
            return
        time.sleep(0.2)
    raise BenchError(f"chat's budgets are still {limits} {timeout_s:.0f} s after the settings changed")
