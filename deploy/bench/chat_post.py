"""``make bench``'s chat posting step: ``POST /api/v1/conversations/{id}/messages`` against a bare
asyncpg endpoint running the same statements (``bare_chat.py``), in one run, on one database.

bench.sh runs it in its last configuration, against the private cluster it started; it prints
figures and asserts nothing (bench.sh goes on if it fails).

1. Starts ONE chat API process of its own (``chat_api.py``: one uvicorn worker, the offline
   model at ``CHAT_OFFLINE_PACE_MS=0``, access log off as the bare app writes none, a pool of
   :data:`POOL` connections) and the bare app (one worker, a pool of the same size).
2. Registers :data:`USERS` users (one per wrk connection, so that no two connections contend
   for a user's budget row), raises the budgets (``chat_api.raise_budgets``), and seeds each
   user's titled, empty conversations by COPY, separate ones for each endpoint: every post is
   the first message of a fresh conversation, titled so that no auto title runs after the
   reply. Each wrk run (the warm-up, each round) takes its own slice of every user's list (it
   would start again within its slice only if it outlasted it); runs that all started from
   the list's first conversation posted, from the second on, under replies the previous run
   left being written: 409s, the non-2xx that once made a run's figures invalid.
3. A warm-up of each endpoint, then :data:`ROUNDS` alternating rounds (chat first in odd
   rounds, the bare first in even ones), each :data:`DURATION_S` s of wrk on :data:`USERS`
   connections (one thread each). The ratio is the median of the rounds' ratios.

The generation: every post starts the reply's generation in the chat process (the bare starts
none). At pace 0 the offline model streams its ~45 tokens at once, so each reply is written
within milliseconds of its post: one transaction reading the conversation, ~45 frames published
on NATS, one transaction committing the reply with its usage and its outbox row
(``chat.message.completed``). That work runs in the chat process during the rounds, on the
same two cores: the chat figure is posting *with* its generation (the service cannot post
without starting one). To show what it weighs, the step also prints the chat process's CPU
per post and how many replies were still unwritten when each round ended (0: the generations
kept up with the posts; a backlog would mean deferred work flattering the chat figure).

Run alone against a running cluster (``make up``)::

    .venv/bin/python deploy/bench/chat_post.py --state-dir .cluster --pg-port 15432 \\
        --nats-port 14222 --identity http://127.0.0.1:8001 --orchestrator http://127.0.0.1:8003
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]
from bench import RESULT_LINE, BenchError, Run, loopback, median_run, parse_wrk, service_dsn
from chat_api import Cluster, bare_server, chat_api, exit_on_sigterm, raise_budgets, register, user_id

from shared.kernel.ids import new_id

USERS: Final = 16  # wrk connections, one thread and one user each; identity allows 20 sign-ups per IP
POOL: Final = 16  # database connections of the chat process and of the bare app
ROUNDS: Final = 3
DURATION_S: Final = 5
WARMUP_S: Final = 2
CONVERSATIONS: Final = {"chat": 1_000, "bare": 2_000}  # per user, split between the runs (warm-up, rounds)
TITLES: Final = {"chat": "Bench chat", "bare": "Bench bare"}  # which endpoint's a conversation is
GOAL: Final = 0.50
CONTENT: Final = (
    "Could you summarise what changed in the deployment pipeline last week, and whether the"
    " rollback plan still holds?"
)
LABELS: Final = {
    "chat": "POST /api/v1/conversations/{id}/messages (chat)",
    "bare": "POST /bare/conversations/{id}/messages (raw asyncpg)",
}

# wrk: each thread (one connection) posts as its own user to its own fresh conversations
SCRIPT: Final = """
local dir = os.getenv("BENCH_POST_DIR")
local kind = os.getenv("BENCH_POST_KIND")
local body = os.getenv("BENCH_POST_BODY")
-- each run (warm-up, rounds) posts into its own slice of the thread's conversations: a run that
-- started again from the first would post under replies still being written (409)
local run = tonumber(os.getenv("BENCH_POST_RUN"))
local runs = tonumber(os.getenv("BENCH_POST_RUNS"))
local assigned = 0

setup = function(thread)
  assigned = assigned + 1
  thread:set("index", assigned)
end

init = function(args)
  local file = assert(io.open(string.format("%s/%s-%d.txt", dir, kind, index)))
  owner = file:read("*l")
  token = file:read("*l")
  ids = {}
  for line in file:lines() do ids[#ids + 1] = line end
  file:close()
  sent = 0
end

request = function()
  sent = sent + 1
  local slice = math.floor(#ids / runs)
  local id = ids[run * slice + ((sent - 1) % slice) + 1]
  local headers = { ["Content-Type"] = "application/json" }
  local path
  if kind == "chat" then
    headers["Authorization"] = "Bearer " .. token
    path = "/api/v1/conversations/" .. id .. "/messages"
  else
    path = "/bare/conversations/" .. id .. "/messages?owner_id=" .. owner
  end
  return wrk.format("POST", path, headers, body)
end
"""

CONVERSATION_COLUMNS: Final = (
    "id", "owner_id", "title", "title_source", "pinned", "archived", "messages_count", "created_at",
    "last_activity_at",
)  # fmt: skip


async def seed(dsn: str, owners: list[uuid.UUID]) -> dict[str, list[list[uuid.UUID]]]:
    """Each user's fresh, titled conversations for each endpoint, COPYed in; their ids."""
    start = datetime.now(UTC) - timedelta(days=1)
    made: dict[str, list[list[uuid.UUID]]] = {kind: [] for kind in CONVERSATIONS}
    rows: list[tuple[Any, ...]] = []
    for kind, count in CONVERSATIONS.items():
        for owner in owners:
            ids = [new_id() for _ in range(count)]
            made[kind].append(ids)
            rows += [(i, owner, TITLES[kind], "user", False, False, 0, start, start) for i in ids]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("conversations", records=rows, columns=CONVERSATION_COLUMNS)
        await conn.execute("ANALYZE conversations")
    finally:
        await conn.close()
    return made


_CHAT_REPLIES: Final = (
    "FROM messages JOIN conversations ON conversations.id = messages.conversation_id"
    " WHERE messages.owner_id = ANY($1::uuid[]) AND messages.sender = 'assistant'"
    f" AND conversations.title = '{TITLES['chat']}'"
)


async def unwritten(dsn: str, owners: list[uuid.UUID]) -> int:
    """The replies of chat's posts not yet written (pending or streaming)."""
    conn = await asyncpg.connect(dsn)
    try:
        query = f"SELECT count(*) {_CHAT_REPLIES} AND messages.status IN ('pending', 'streaming')"
        return int(await conn.fetchval(query, owners))
    finally:
        await conn.close()


async def statuses(dsn: str, owners: list[uuid.UUID]) -> dict[str, int]:
    """The replies of chat's posts by status."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(f"SELECT messages.status, count(*) {_CHAT_REPLIES} GROUP BY 1", owners)
    finally:
        await conn.close()
    return {row[0]: int(row[1]) for row in rows}


async def settle_bare(dsn: str, owners: list[uuid.UUID]) -> None:
    """The bare endpoint's pending replies, which no generation will ever write, marked stopped
    between runs: otherwise the chat processes' sweeps (every 5 s, replies unleased for 10 s)
    would fail them during the chat rounds, work the chat figure should not carry."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE messages SET status = 'stopped', finished_at = now() FROM conversations"
            " WHERE conversations.id = messages.conversation_id AND conversations.title = $2"
            " AND messages.owner_id = ANY($1::uuid[]) AND messages.status = 'pending'",
            owners,
            TITLES["bare"],
        )
    finally:
        await conn.close()


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def run_wrk(
    kind: str, url: str, seconds: int, work: Path, script: Path, out: Path | None, pid: int, run: int
) -> None:
    """Run ``run`` (0: the warm-up) of ``kind`` against ``url``, in its own slice of the
    conversations; with ``out``, its output and the server's CPU time are kept there
    (``<out>.out``, ``<out>.cpu``) for ``bench.parse_wrk``."""
    env = {
        "BENCH_POST_DIR": str(work),
        "BENCH_POST_KIND": kind,
        "BENCH_POST_RUN": str(run),
        "BENCH_POST_RUNS": str(ROUNDS + 1),
        "BENCH_POST_BODY": json.dumps({"content": CONTENT}),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    command = [
        "wrk", f"-t{USERS}", f"-c{USERS}", f"-d{seconds}s", "--timeout", "10s", "--latency",
        "-s", str(script), loopback(url),
    ]  # fmt: skip
    before = cpu_seconds(pid)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    used = cpu_seconds(pid) - before
    if done.returncode != 0 or not RESULT_LINE.search(done.stdout):
        raise BenchError(f"wrk on {kind} failed: {(done.stdout + done.stderr)[-600:]}")
    if out is not None:
        Path(f"{out}.out").write_text(done.stdout + done.stderr)
        Path(f"{out}.cpu").write_text(f"{round(used * 100)} 100\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chat_post.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--pg-port", type=int, required=True)
    parser.add_argument("--nats-port", type=int, required=True)
    parser.add_argument("--identity", required=True, help="identity's base URL")
    parser.add_argument("--orchestrator", required=True, help="orchestrator's base URL")
    parser.add_argument("--out", type=Path, default=None, help="where to keep wrk's outputs and the logs")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="chat-post-"))
    out.mkdir(parents=True, exist_ok=True)
    exit_on_sigterm()
    began = time.monotonic()
    try:
        cluster = Cluster(
            args.state_dir, args.pg_port, args.nats_port, loopback(args.identity), loopback(args.orchestrator)
        )
        dsn = service_dsn(args.state_dir, args.pg_port, "chat")
        settings = {
            "CHAT_OFFLINE_PACE_MS": "0",
            "CHAT_ACCESS_LOG_SAMPLE": "0",
            "CHAT_DB_POOL_SIZE": str(POOL),
        }
        with (
            chat_api(cluster, out, "chat-post-api", settings) as api,
            bare_server(
                "bare_chat.py",
                out,
                "chat-post-bare.log",
                cluster.marker(),
                {"BARE_CHAT_DSN": dsn, "BARE_POOL_SIZE": str(POOL)},
            ) as (bare, bare_pid),
        ):
            started = time.monotonic()
            tokens = register(cluster.identity, USERS)
            owners = [uuid.UUID(user_id(cluster.identity, token)) for token in tokens]
            registered = time.monotonic()
            raise_budgets(cluster, api.url, tokens[0])
            made = asyncio.run(seed(dsn, owners))
            seeded = time.monotonic()
            work = Path(tempfile.mkdtemp(prefix="chat-post-", dir=out))
            for kind, lists in made.items():
                for index, (owner, token, ids) in enumerate(zip(owners, tokens, lists, strict=True), start=1):
                    lines = [str(owner), token, *map(str, ids)]
                    (work / f"{kind}-{index}.txt").write_text("\n".join(lines) + "\n")
            done_lua = (Path(__file__).parent / "wrk.lua").read_text().split("\ndone = function", 1)[1]
            script = work / "post.lua"
            script.write_text(SCRIPT + "\ndone = function" + done_lua)
            targets = {"chat": (api.url, api.pid), "bare": (bare, bare_pid)}
            print(
                f"  setup: the chat API and the bare app started in {started - began:.1f} s; {USERS} users"
                f" registered in {registered - started:.1f} s; budgets raised and "
                f"{sum(CONVERSATIONS.values()) * USERS:,} conversations seeded in {seeded - registered:.1f} s"
            )
            for kind in ("chat", "bare"):
                url, pid = targets[kind]
                run_wrk(kind, url, WARMUP_S, work, script, None, pid, 0)
            asyncio.run(settle_bare(dsn, owners))
            backlog: list[int] = []
            for number in range(1, ROUNDS + 1):
                order = ("chat", "bare") if number % 2 else ("bare", "chat")
                for kind in order:
                    url, pid = targets[kind]
                    run_wrk(
                        kind, url, DURATION_S, work, script, out / f"chat-post-{kind}.{number}", pid, number
                    )
                    if kind == "chat":
                        backlog.append(asyncio.run(unwritten(dsn, owners)))
                    else:
                        asyncio.run(settle_bare(dsn, owners))
            drained = time.monotonic()
            while asyncio.run(unwritten(dsn, owners)) and time.monotonic() - drained < 15:
                time.sleep(0.2)
            drain_s = time.monotonic() - drained
            replies = asyncio.run(statuses(dsn, owners))
        report(out, backlog, drain_s, replies, time.monotonic() - began)
    except (BenchError, OSError, asyncpg.PostgresError, httpx.HTTPError, psutil.Error) as exc:
        print(f"bench: chat post: {exc}", file=sys.stderr)
        return 1
    return 0


def report(out: Path, backlog: list[int], drain_s: float, replies: dict[str, int], took_s: float) -> None:
    chats = [parse_wrk(out / f"chat-post-chat.{n}.out", LABELS["chat"]) for n in range(1, ROUNDS + 1)]
    bares = [parse_wrk(out / f"chat-post-bare.{n}.out", LABELS["bare"]) for n in range(1, ROUNDS + 1)]
    ratios = [c.per_second / b.per_second if b.per_second else 0.0 for c, b in zip(chats, bares, strict=True)]
    ratio = statistics.median(ratios)
    names = ("req/s", 10), ("p50 ms", 9), ("p99 ms", 9), ("non-2xx", 8), ("errors", 7), ("cpu ms/req", 11)
    print(
        f"\n  {USERS} connections (one wrk thread and one user each, every post the first message of a"
        f" fresh conversation);\n  chat: one API process, offline model at pace 0, access log off,"
        f" {POOL} database connections; bare: one worker, {POOL} connections"
    )
    print(f"  {'':<52}" + "".join(f" {name:>{width}}" for name, width in names))
    for run in (median_run(chats), median_run(bares)):
        print(f"  {run.label:<52}" + row(run))
    verdict = "meets" if ratio >= GOAL else "BELOW"
    print(f"\n  ratio post / bare: {ratio:.2f}  ({verdict} the target of {GOAL:.2f})")
    print(f"  ratio in each round: {' '.join(f'{r:.2f}' for r in ratios)} (median above)")
    for number, (chat, bare) in enumerate(zip(chats, bares, strict=True), start=1):
        print(
            f"    round {number}: chat {chat.per_second:,.0f} req/s p99 {chat.p99_ms:.2f} ms, bare"
            f" {bare.per_second:,.0f} req/s p99 {bare.p99_ms:.2f} ms"
        )
    cpu = [b.cpu_ms / c.cpu_ms for c, b in zip(chats, bares, strict=True) if c.cpu_ms and b.cpu_ms]
    if cpu:
        print(
            f"  server CPU per request, bare / chat: {statistics.median(cpu):.2f} (chat's includes writing"
            " the reply each post starts)"
        )
    print(
        f"  replies still being written when each chat round ended: {' '.join(map(str, backlog))};"
        f" all written {drain_s:.1f} s after the last round; replies by status: "
        + ", ".join(f"{status} {count:,}" for status, count in sorted(replies.items()))
    )
    valid = all(run.clean for run in (*chats, *bares))
    if not valid:
        print("  a run had non-2xx answers or socket errors: its figures are not valid")
    (out / "chat-post.json").write_text(
        json.dumps(
            {
                "ratio": ratio,
                "goal": GOAL,
                "rounds": [
                    {"chat": c.as_json(), "bare": b.as_json(), "ratio": round(r, 3)}
                    for c, b, r in zip(chats, bares, ratios, strict=True)
                ],
                "unwritten_at_round_end": backlog,
                "drain_s": round(drain_s, 2),
                "replies": replies,
                "valid": valid,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\n  chat post done in {took_s:.0f} s")


def row(run: Run) -> str:
    cpu = "" if run.cpu_ms is None else f"{run.cpu_ms:.3f}"
    return (
        f" {run.per_second:>10,.0f} {run.p50_ms:>9.2f} {run.p99_ms:>9.2f} {run.non_2xx:>8}"
        f" {run.socket_errors:>7} {cpu:>11}"
    )


if __name__ == "__main__":
    sys.exit(main())
