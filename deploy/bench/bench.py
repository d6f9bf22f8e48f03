"""The Python half of ``make bench`` (bench.sh drives it): ports, the bench user, waits, the table.

bench.py ports N                   N distinct free ports on 127.0.0.1
bench.py prepare ...               register and log in the bench user; prints shell assignments
bench.py wait URL                  poll until URL answers 200
bench.py worker-pid STATE SERVICE  the pid of one uvicorn worker of SERVICE's API (for py-spy)
bench.py api-pids STATE SERVICE    the pids of SERVICE's API process and its workers (for CPU time)
bench.py board ...                 a project of 200 tasks through orchestrator's API; shell assignments
bench.py moves ...                 the movers' current versions and columns, for wrk.lua (BENCH_MOVES)
bench.py same-sql                  does bare_board.py still run orchestrator's statements? (exit 4 if not)
bench.py table RUN_DIR ...         parse wrk's outputs there, print the table, write results.json
bench.py summary RUN_DIR CONFIG... the ratio of each configuration measured (from its results.json)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import shlex
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aiorch_devkit.devservers import free_port
from shared.db.engine import asyncpg_dsn
from shared.db.provision import service_url

API = "/api/v1"
ARGON2_PARAMS = re.compile(r"^\$(argon2(?:id|i|d))\$v=\d+\$(m=\d+,t=\d+,p=\d+)\$")
RESULT_LINE = re.compile(r"^BENCH_RESULT (\{.*\})$", re.MULTILINE)
TARGET_RATIO = 0.60  # /users/me against its bare twin (issue 3)
BOARD_RATIO = 0.60  # the board read of 200 tasks (issue 8)
MOVE_RATIO = 0.50  # the task move with its activity and outbox rows (issue 8)
JSON = {"Content-Type": "application/json"}


class BenchError(Exception):
    """A step failed; the message says which and why."""


def loopback(url: str) -> str:
    if not url.startswith("http://127.0.0.1:"):
        raise BenchError(f"refusing {url}: the bench only talks to 127.0.0.1")
    return url.rstrip("/")


# --- ports -----------------------------------------------------------------------------


def ports(count: int) -> list[int]:
    found: list[int] = []
    while len(found) < count:
        port = free_port()
        if port not in found:
            found.append(port)
    return found


# --- prepare ---------------------------------------------------------------------------


@dataclass
class Prepared:
    user_id: str
    token: str
    login_body: str  # the JSON wrk posts to /auth/login
    argon2: str  # the parameters of the user's stored hash, e.g. "argon2id m=19456,t=2,p=1"
    dsn: str  # identity's own role, for the bare app

    def shell(self) -> str:
        values = {
            "BENCH_USER_ID": self.user_id,
            "BENCH_TOKEN": self.token,
            "BENCH_LOGIN_BODY": self.login_body,
            "BENCH_ARGON2": self.argon2,
            "BENCH_DSN": self.dsn,
        }
        return "".join(f"{name}={shlex.quote(value)}\n" for name, value in values.items())


async def _password_hash(dsn: str, user_id: str) -> str | None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        value = await conn.fetchval(
            "SELECT password_hash FROM identity.users WHERE id = $1", uuid.UUID(user_id)
        )
    finally:
        await conn.close()
    return None if value is None else str(value)


def _explain(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.path} answered {response.status_code}: {response.text[:400]}"


def prepare(state_dir: Path, pg_port: int, identity: str) -> Prepared:
    """Register a user through identity's API, log in, and check ``/users/me`` answers it."""
    identity = loopback(identity)
    dsn = service_dsn(state_dir, pg_port, "identity")
    email = f"bench-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(18)
    with httpx.Client(base_url=f"{identity}{API}", timeout=30) as client:
        registered = client.post(
            "/auth/register", json={"email": email, "password": password, "name": "Bench"}
        )
        if registered.status_code != 202:  # the same answer for any address: no id in it
            raise BenchError(_explain(registered))
        login_body = json.dumps({"email": email, "password": password})
        logged_in = client.post("/auth/login", content=login_body, headers=JSON)
        if logged_in.status_code != 200:
            raise BenchError(_explain(logged_in))
        token = str(logged_in.json()["access_token"])
        me = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        if me.status_code != 200:
            raise BenchError(_explain(me))
        if me.json().get("email") != email:
            raise BenchError(f"GET {API}/users/me answered another user than the one registered ({email})")
        user_id = str(me.json()["id"])
    match = ARGON2_PARAMS.match(asyncio.run(_password_hash(dsn, user_id)) or "")
    argon2 = f"{match.group(1)} {match.group(2)}" if match else "argon2 parameters unknown"
    return Prepared(user_id, token, login_body, argon2, dsn)


# --- board and moves -------------------------------------------------------------------

COLUMNS = ("backlog", "todo", "in_progress", "review", "done")
MOVE_BETWEEN = ("todo", "in_progress")  # each mover goes back and forth between these two


def service_dsn(state_dir: Path, pg_port: int, service: str) -> str:
    secrets_file = state_dir / "secrets.json"
    try:
        password = json.loads(secrets_file.read_text())[service]
    except (OSError, ValueError, KeyError) as exc:
        raise BenchError(f"no {service} role password in {secrets_file}: {exc}") from None
    admin = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
    return asyncpg_dsn(service_url(admin, service, password))


def board(state_dir: Path, pg_port: int, orchestrator: str, token: str, count: int, movers: int) -> str:
    """A project with ``count`` tasks spread evenly over the columns, through orchestrator's API.

    One task in four depends on the task created before it (so the board computes ``blocked``).
    Returns shell assignments: the project, orchestrator's DSN and the ``movers`` task ids (half
    in todo, half in in_progress), one per wrk connection of the move runs, so no two
    connections ever move the same task (a 412 would be a failed run).
    """
    orchestrator = loopback(orchestrator)
    headers = {"Authorization": f"Bearer {token}"}
    placed: dict[str, list[str]] = {column: [] for column in COLUMNS}
    with httpx.Client(base_url=f"{orchestrator}{API}", headers=headers, timeout=30) as client:
        created = client.post("/projects", json={"name": "Bench board", "description": "make bench"})
        if created.status_code != 201:
            raise BenchError(_explain(created))
        project_id = str(created.json()["id"])
        previous: str | None = None
        for number in range(count):
            column = COLUMNS[number % len(COLUMNS)]
            body: dict[str, Any] = {
                "title": f"Task {number + 1:03d}: a card of the bench board",
                "description": "Written by make bench. " * 4,
                "status": column,
                "priority": ("low", "medium", "high", "urgent")[number % 4],
            }
            if previous is not None and number % 4 == 3:
                body["dependencies"] = [previous]
            task = client.post(f"/projects/{project_id}/tasks", json=body)
            if task.status_code != 201:
                raise BenchError(_explain(task))
            previous = str(task.json()["id"])
            placed[column].append(previous)
        read = client.get(f"/projects/{project_id}/tasks")
        if read.status_code != 200:
            raise BenchError(_explain(read))
        on_board = sum(len(column["tasks"]) for column in read.json()["columns"])
        if on_board != count:
            raise BenchError(f"the board holds {on_board} tasks, not the {count} created")
    half = (movers + 1) // 2
    chosen = placed[MOVE_BETWEEN[0]][:half] + placed[MOVE_BETWEEN[1]][: movers - half]
    if len(chosen) != movers:
        raise BenchError(f"{movers} movers need {half} tasks in each of {MOVE_BETWEEN}: raise the task count")
    values = {
        "BENCH_PROJECT_ID": project_id,
        "BENCH_ORCHESTRATOR_DSN": service_dsn(state_dir, pg_port, "orchestrator"),
        "BENCH_MOVERS": ",".join(chosen),
    }
    return "".join(f"{name}={shlex.quote(value)}\n" for name, value in values.items())


async def _movers(dsn: str, ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, int, str]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT id, version, status FROM orchestrator.tasks WHERE id = ANY($1::uuid[])", ids
        )
    finally:
        await conn.close()
    return [(row[0], row[1], row[2]) for row in rows]


def moves(dsn: str, movers: str) -> str:
    """``id:version:column,...`` for wrk.lua: where each mover is now, read from the database
    right before a run (the previous run may have ended with a move wrk never saw answered)."""
    ids = [uuid.UUID(value) for value in movers.split(",") if value]
    found = {row[0]: row for row in asyncio.run(_movers(dsn, ids))}
    if len(found) != len(ids):
        raise BenchError(f"{len(ids) - len(found)} of the bench's movers are gone from the board")
    return ",".join(f"{task_id}:{found[task_id][1]}:{found[task_id][2]}" for task_id in ids)


# --- wait ------------------------------------------------------------------------------


def wait(url: str, timeout: float) -> None:
    url = loopback(url)
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=5)
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == 200:
                return
            last = f"{response.status_code}: {response.text[:300]}"
        time.sleep(0.2)
    raise BenchError(f"{url} did not answer 200 within {timeout:.0f} s (last: {last})")


# --- worker-pid ------------------------------------------------------------------------


def worker_pid(state_dir: Path, service: str) -> int:
    import psutil  # type: ignore[import-untyped]

    run = json.loads((state_dir / "run" / "cluster.json").read_text())
    api = psutil.Process(int(run["processes"][f"{service}-api"]["pid"]))
    # uvicorn's workers are multiprocessing children (spawn_main); a lone process serves itself
    workers = [c for c in api.children() if "spawn_main" in " ".join(c.cmdline())]
    return int(workers[0].pid if workers else api.pid)


def api_pids(state_dir: Path, service: str) -> list[int]:
    import psutil

    run = json.loads((state_dir / "run" / "cluster.json").read_text())
    api = psutil.Process(int(run["processes"][f"{service}-api"]["pid"]))
    return [api.pid, *(child.pid for child in api.children(recursive=True))]


# --- table -----------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    cpu_ms: float | None = None  # the server's processes' CPU time per request (all its workers)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def clean(self) -> bool:
        return self.requests > 0 and self.non_2xx == 0 and self.socket_errors == 0

    def row(self) -> str:
        flag = "" if self.clean else "   <- errors: figure not valid"
        cpu = "" if self.cpu_ms is None else f"{self.cpu_ms:.3f}"
        return (
            f"  {self.label:<44} {self.per_second:>10,.0f} {self.p50_ms:>9.2f} {self.p99_ms:>9.2f}"
            f" {self.non_2xx:>8} {self.socket_errors:>7} {cpu:>11}{flag}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "requests": self.requests,
            "seconds": self.seconds,
            "per_second": round(self.per_second, 1),
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "non_2xx": self.non_2xx,
            "socket_errors": self.socket_errors,
            "cpu_ms_per_request": self.cpu_ms,
        }


def parse_wrk(path: Path, label: str) -> Run:
    try:
        text = path.read_text()
    except OSError as exc:
        raise BenchError(f"no wrk output at {path}: {exc}") from None
    found = RESULT_LINE.findall(text)
    if not found:
        raise BenchError(f"{path} has no BENCH_RESULT line (did wrk fail?):\n{text[-1500:]}")
    data = json.loads(found[-1])
    cpu_ms = None
    cpu_file = path.with_suffix(".cpu")  # "<ticks> <ticks per second>", written by bench.sh
    if cpu_file.exists() and int(data["requests"]):
        ticks, hertz = (int(value) for value in cpu_file.read_text().split())
        cpu_ms = 1000 * ticks / hertz / int(data["requests"])
    return Run(
        label=label,
        requests=int(data["requests"]),
        seconds=int(data["duration_us"]) / 1e6,
        p50_ms=float(data["p50_us"]) / 1000,
        p99_ms=float(data["p99_us"]) / 1000,
        non_2xx=int(data["status"]),
        socket_errors=sum(int(data[k]) for k in ("connect", "read", "write", "timeout")),
        cpu_ms=cpu_ms,
    )


def rounds(run_dir: Path, name: str, label: str) -> list[Run]:
    """The measured runs of one endpoint, in round order (``<name>.<round>.out``)."""
    paths = sorted(run_dir.glob(f"{name}.[0-9]*.out"), key=lambda p: int(p.name.split(".")[1]))
    if not paths:
        raise BenchError(f"no measured run of {name} in {run_dir}")
    return [parse_wrk(path, label) for path in paths]


def median_run(runs: list[Run]) -> Run:
    """The round whose req/s is the median (the lower middle one of an even count)."""
    ordered = sorted(runs, key=lambda run: run.per_second)
    return ordered[(len(ordered) - 1) // 2]


@dataclass(frozen=True)
class Pair:
    """An endpoint of a service and the bare endpoint doing the same SQL, measured in alternating
    rounds (``<name>.<round>.out`` and ``<bare>.<round>.out``)."""

    name: str
    bare: str
    label: str
    bare_label: str
    short: str  # the ratio's name in the output
    goal: float
    key: str  # its key in results.json


PAIRS = (
    Pair(
        "users-me", "bare", f"GET {API}/users/me (identity)", "GET /bare/users/{id} (raw asyncpg, no reset)",
        "users/me", TARGET_RATIO, "users_me",
    ),
    Pair(
        "board", "bare-board", f"GET {API}/projects/{{id}}/tasks (orchestrator)",
        "GET /bare/projects/{id}/tasks (raw asyncpg)", "board", BOARD_RATIO, "board",
    ),
    Pair(
        "move", "bare-move", f"POST {API}/tasks/{{id}}/move (orchestrator)",
        "POST /bare/tasks/{id}/move (raw asyncpg)", "move", MOVE_RATIO, "move",
    ),
)  # fmt: skip


@dataclass
class Measured:
    pair: Pair
    targets: list[Run]
    bares: list[Run]

    @property
    def per_round(self) -> list[float]:
        return [
            t.per_second / b.per_second if b.per_second else 0.0
            for t, b in zip(self.targets, self.bares, strict=True)
        ]

    @property
    def ratio(self) -> float:
        return statistics.median(self.per_round)

    def print(self, header: str, context: dict[str, str]) -> None:
        pair, ratio = self.pair, self.ratio
        connections = context.get(f"{pair.key}_connections", context.get("connections", "?"))
        print(f"  {pair.short}: {connections} connections")
        print(header)
        print(median_run(self.targets).row())
        print(median_run(self.bares).row())
        verdict = "meets" if ratio >= pair.goal else "BELOW"
        each = " ".join(f"{r:.2f}" for r in self.per_round)
        print(f"\n  ratio {pair.short} / bare: {ratio:.2f}  ({verdict} the target of {pair.goal:.2f})")
        print(f"  ratio in each round: {each} (median above)")
        for number, (t, b) in enumerate(zip(self.targets, self.bares, strict=True), start=1):
            print(
                f"    round {number}: {pair.short} {t.per_second:,.0f} req/s p99 {t.p99_ms:.2f} ms,"
                f" bare {b.per_second:,.0f} req/s p99 {b.p99_ms:.2f} ms"
            )
        if (cpu := self.cpu_ratio) is not None:
            print(
                f"  server CPU per request, bare / {pair.short}: {cpu:.2f} (median of the rounds; less"
                " swayed by other work on the machine than req/s)"
            )
        print()

    @property
    def cpu_ratio(self) -> float | None:
        pairs = [(t.cpu_ms, b.cpu_ms) for t, b in zip(self.targets, self.bares, strict=True)]
        ratios = [b / t for t, b in pairs if t and b]
        return statistics.median(ratios) if ratios else None

    def as_json(self) -> dict[str, Any]:
        return {
            "target": median_run(self.targets).as_json(),
            "bare": median_run(self.bares).as_json(),
            "ratio": self.ratio,  # unrounded: the summary prints it with the same rounding as the table
            "goal": self.pair.goal,
            "cpu_ratio": self.cpu_ratio,
            "rounds": [
                {"target": t.as_json(), "bare": b.as_json(), "ratio": round(r, 3)}
                for t, b, r in zip(self.targets, self.bares, self.per_round, strict=True)
            ],
        }


def table(run_dir: Path, argon2: str, context: dict[str, str]) -> bool:
    """Print the figures; False when one of them is not valid (errors during the run).

    Each endpoint and its bare twin ran in alternating rounds: each row is the median round,
    and the ratio is the median of the rounds' ratios (each pairs two runs adjacent in time).
    """
    measured = [
        Measured(pair, rounds(run_dir, pair.name, pair.label), rounds(run_dir, pair.bare, pair.bare_label))
        for pair in PAIRS
        if _has(run_dir, pair.name)
    ]
    # logins are measured in the last configuration of a run only
    logins = rounds(run_dir, "login", f"POST {API}/auth/login (identity)") if _has(run_dir, "login") else []
    print(f"  {context.get('configuration', '')} configuration, {context.get('workers', '?')} worker(s):")
    names = ("req/s", 10), ("p50 ms", 9), ("p99 ms", 9), ("non-2xx", 8), ("errors", 7), ("cpu ms/req", 11)
    header = f"  {'':<44}" + "".join(f" {name:>{width}}" for name, width in names)
    for each in measured:
        each.print(header, context)
    for login in logins:
        connections = context.get("login_connections", "?")
        print(f"  logins at {argon2}, {connections} connections (req/s = logins/s)")
        print(header)
        print(login.row())

    results: dict[str, Any] = {"context": context}
    for each in measured:
        results[each.pair.key] = each.as_json()
    results["login"] = {**logins[0].as_json(), "argon2": argon2} if logins else None
    (run_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    runs = [run for each in measured for run in (*each.targets, *each.bares)]
    return all(run.clean for run in [*runs, *logins])


def _has(run_dir: Path, name: str) -> bool:
    return any(run_dir.glob(f"{name}.[0-9]*.out"))


def summary(run_dir: Path, configs: list[str]) -> None:
    """One line per configuration and endpoint: workers, access log, median figures and ratio."""
    print("  summary                       workers  access log  endpoint   req/s  bare req/s  ratio")
    for config in configs:
        try:
            results = json.loads((run_dir / config / "results.json").read_text())
        except (OSError, ValueError) as exc:
            raise BenchError(f"no results for the {config} configuration: {exc}") from None
        context = results["context"]
        for pair in PAIRS:
            if pair.key not in results:
                continue
            measured = results[pair.key]
            ratio = measured["ratio"]
            verdict = "meets" if ratio >= pair.goal else "BELOW"
            print(
                f"  {config + ' configuration':<29} {context.get('workers', '?'):>7}"
                f"  {context.get('access_log_sample', '?').split(' ')[0]:>10}"
                f"  {pair.short:<8} {measured['target']['per_second']:>7,.0f}"
                f"  {measured['bare']['per_second']:>10,.0f}"
                f"  {ratio:.2f} ({verdict} {pair.goal:.2f})"
            )


# --- command line ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("ports")
    p.add_argument("count", type=int)
    p = commands.add_parser("prepare")
    p.add_argument("--state-dir", type=Path, required=True)
    p.add_argument("--pg-port", type=int, required=True)
    p.add_argument("--identity", required=True, help="identity's base URL")
    p = commands.add_parser("wait")
    p.add_argument("url")
    p.add_argument("--timeout", type=float, default=60.0)
    p = commands.add_parser("worker-pid")
    p.add_argument("state_dir", type=Path)
    p.add_argument("service")
    p = commands.add_parser("api-pids")
    p.add_argument("state_dir", type=Path)
    p.add_argument("service")
    p = commands.add_parser("board")
    p.add_argument("--state-dir", type=Path, required=True)
    p.add_argument("--pg-port", type=int, required=True)
    p.add_argument("--orchestrator", required=True, help="orchestrator's base URL")
    p.add_argument("--token", required=True)
    p.add_argument("--tasks", type=int, default=200)
    p.add_argument("--movers", type=int, required=True)
    p = commands.add_parser("moves")
    p.add_argument("--dsn", required=True)
    p.add_argument("--movers", required=True, help="comma-separated task ids")
    commands.add_parser("same-sql")
    p = commands.add_parser("table")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--argon2", required=True)
    p.add_argument("--context", action="append", default=[], metavar="KEY=VALUE")
    p = commands.add_parser("summary")
    p.add_argument("run_dir", type=Path)
    p.add_argument("configs", nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "ports":
            print(" ".join(map(str, ports(args.count))))
        elif args.command == "prepare":
            sys.stdout.write(prepare(args.state_dir, args.pg_port, args.identity).shell())
        elif args.command == "wait":
            wait(args.url, args.timeout)
        elif args.command == "worker-pid":
            print(worker_pid(args.state_dir, args.service))
        elif args.command == "api-pids":
            print(" ".join(map(str, api_pids(args.state_dir, args.service))))
        elif args.command == "board":
            sys.stdout.write(
                board(args.state_dir, args.pg_port, args.orchestrator, args.token, args.tasks, args.movers)
            )
        elif args.command == "moves":
            print(moves(args.dsn, args.movers))
        elif args.command == "same-sql":
            import same_sql  # beside this file: imports orchestrator, only this command needs it

            found = same_sql.differences()
            print("\n".join(found) if found else "the bare endpoints run orchestrator's statements")
            return 4 if found else 0
        elif args.command == "summary":
            summary(args.run_dir, args.configs)
        else:
            context = dict(item.split("=", 1) for item in args.context)
            return 0 if table(args.run_dir, args.argon2, context) else 3
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
