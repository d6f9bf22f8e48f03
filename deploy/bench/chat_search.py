"""``make bench``'s chat search step: GET /api/v1/search over 100,000 messages of one user.

bench.sh runs it in its last configuration, against the private cluster it started and with the
bench user's token; it prints figures and asserts nothing (bench.sh goes on if it fails).

1. Seeds, straight into chat's tables through chat's own role (COPY, no API: 100,000 messages
   through the API would take minutes): the bench user's 1,000 conversations of 100 messages
   each, and 20 other users' 1,000 messages each, so that owner scoping has rows to skip. The
   text is made of common English words and technical terms drawn with Zipf weights (a few
   terms are in most messages, most in few), with some stock sentences for the phrases. The
   generated ``search`` columns and the GIN indexes are filled as rows arrive, then ANALYZEd.
2. Times each query of :data:`QUERIES` alone, one request after another (p50, p99, max), then
   all of them in rotation under load (wrk, 16 connections, when wrk is installed).
3. Prints the plan PostgreSQL runs for one query (EXPLAIN ANALYZE of the service's own
   statement), to show the GIN index at work.

Run alone against a running cluster (``make up``, a registered user's token)::

    .venv/bin/python deploy/bench/chat_search.py --state-dir .cluster --pg-port 15432 \\
        --chat http://127.0.0.1:8002 --token "$TOKEN" --user-id "$USER_ID"

(``--identity URL --login-body JSON`` instead of ``--token``: a fresh token, as bench.sh does.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx
from bench import API, RESULT_LINE, BenchError, loopback, service_dsn

from chat.adapters.postgres.search import SEARCH
from shared.db.pool import CompiledQuery
from shared.kernel.ids import new_id

USER_CONVERSATIONS: Final = 1_000
MESSAGES_PER_CONVERSATION: Final = 100
OTHER_USERS: Final = 20
OTHER_MESSAGES: Final = 1_000
SEQUENTIAL_RUNS: Final = 25
LOAD_CONNECTIONS: Final = 16
LOAD_SECONDS: Final = 8
PAGE: Final = 20
EXPLAINED: Final = "kubernetes deployment"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


QUERIES: Final = (
    "kubernetes deployment",  # two terms of middling frequency
    '"connection pool"',  # a phrase
    "migration -rollback",  # an exclusion
    "deploying",  # a stemmed word
    "postgres or mysql",  # alternatives
    "idempotency",  # a rare term
    "code",  # the commonest term: most messages match (the worst case: every hit is ranked)
    "the of and",  # stop words only: nothing to find
)

COMMON: Final = _words(
    "the of and to a in is it you that he was for on are with as I his they be at one have this from"
    " or had by not word but what some we can out other were all there when up use your how said an"
    " each she which do their time if will way about many then them write would like so these her"
    " long make thing see him two has look more day could go come did number sound no most people my"
    " over know water than call first who may down side been now find any new work part take get"
    " place made live where after back little only round man year came show every good me give our"
    " under name very through just form sentence great think say help low line differ turn cause much"
    " mean before move right boy old too same tell does set three want air well also play small end"
    " put home read hand port large spell add even land here must big high such follow act why ask"
)
TERMS: Final = _words(
    "code test function error database query server client request response api endpoint deploy"
    " deployment build release branch commit merge review bug fix issue log metric cache index table"
    " schema migration column row transaction lock timeout retry queue worker job stream event message"
    " broker topic consumer producer container image kubernetes cluster node pod service ingress config"
    " secret token auth session password user role permission latency throughput memory cpu disk"
    " network socket thread process async await callback promise future python rust go java typescript"
    " javascript react frontend backend css html json yaml sql postgres mysql redis kafka nats grpc rest"
    " graphql http tls certificate proxy load balancer replica shard partition backup restore rollback"
    " monitoring alert dashboard trace span profiler benchmark refactor interface module package"
    " dependency version upgrade downgrade compiler linter formatter pipeline ci runner artifact"
    " flaky regression coverage fixture mock stub assertion snapshot idempotency backpressure deadlock"
)
SENTENCES: Final = (
    "The connection pool is exhausted under load.",
    "Raise the connection pool size and measure again.",
    "The database migration failed on the staging cluster.",
    "We should add a retry with exponential backoff.",
    "The flaky test times out on the CI runner.",
    "Deploying the new release needs a rollback plan.",
)


def zipf(words: tuple[str, ...]) -> list[float]:
    """Cumulative Zipf weights: the n-th word weighs 1/n."""
    total, cumulative = 0.0, []
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cumulative.append(total)
    return cumulative


class Writer:
    """Deterministic chat text: 70% common words, 30% technical terms, a stock sentence in one
    message of 12."""

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.common = zipf(COMMON)
        self.terms = zipf(TERMS)

    def words(self, count: int) -> list[str]:
        terms = sum(1 for _ in range(count) if self.random.random() < 0.3)
        chosen = self.random.choices(COMMON, cum_weights=self.common, k=count - terms)
        chosen += self.random.choices(TERMS, cum_weights=self.terms, k=terms)
        self.random.shuffle(chosen)
        return chosen

    def message(self) -> str:
        text = " ".join(self.words(self.random.randint(8, 60))).capitalize() + "."
        if self.random.random() < 1 / 12:
            text += " " + self.random.choice(SENTENCES)
        return text

    def title(self) -> str:
        return " ".join(
            self.random.choices(TERMS, cum_weights=self.terms, k=self.random.randint(2, 5))
        ).capitalize()


CONVERSATION_COLUMNS: Final = (
    "id",
    "owner_id",
    "title",
    "title_source",
    "pinned",
    "archived",
    "messages_count",
    "created_at",
    "last_activity_at",
)
MESSAGE_COLUMNS: Final = (
    "id",
    "conversation_id",
    "owner_id",
    "parent_id",
    "sender",
    "content",
    "status",
    "metadata",
    "prompt_tokens",
    "completion_tokens",
    "created_at",
    "finished_at",
)


def rows_of(
    writer: Writer, owner_id: uuid.UUID, conversations: int, per_conversation: int, start: datetime
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Each conversation's row and its messages' rows (user and assistant in turn, a chain)."""
    for number in range(conversations):
        conversation_id = new_id()
        created = start + timedelta(minutes=number)
        conversation = (
            conversation_id, owner_id, writer.title(), "auto", False, number % 10 == 0, per_conversation,
            created, created + timedelta(seconds=per_conversation),
        )  # fmt: skip
        messages: list[tuple[Any, ...]] = []
        parent = None
        for turn in range(per_conversation):
            message_id = new_id()
            at = created + timedelta(seconds=turn)
            assistant = turn % 2 == 1
            messages.append(
                (
                    message_id, conversation_id, owner_id, parent, "assistant" if assistant else "user",
                    writer.message(), "completed", "{}", 40 if assistant else 0, 80 if assistant else 0,
                    at, at if assistant else None,
                )
            )  # fmt: skip
            parent = message_id
        yield conversation, messages


async def seed(dsn: str, owner_id: uuid.UUID) -> dict[str, Any]:
    """The bench user's messages and the other users', COPYed in; returns counts and timings."""
    writer = Writer()
    started = time.monotonic()
    start = datetime.now(UTC) - timedelta(days=30)
    batches = [rows_of(writer, owner_id, USER_CONVERSATIONS, MESSAGES_PER_CONVERSATION, start)]
    batches += [rows_of(writer, uuid.uuid4(), 10, OTHER_MESSAGES // 10, start) for _ in range(OTHER_USERS)]
    conversations: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    for batch in batches:
        for conversation, its_messages in batch:
            conversations.append(conversation)
            messages += its_messages
    generated = time.monotonic()
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "conversations", records=conversations, columns=CONVERSATION_COLUMNS
            )
            await conn.copy_records_to_table("messages", records=messages, columns=MESSAGE_COLUMNS)
        copied = time.monotonic()
        # the GIN indexes' pending lists merged, the planner told about the new rows
        await conn.execute("VACUUM ANALYZE conversations, messages")
        stored = await conn.fetchval("SELECT count(*) FROM messages WHERE owner_id = $1", owner_id)
    finally:
        await conn.close()
    return {
        "user_messages": stored,
        "other_messages": len(messages) - stored,
        "conversations": len(conversations),
        "generate_s": round(generated - started, 1),
        "copy_s": round(copied - generated, 1),
        "vacuum_s": round(time.monotonic() - copied, 1),
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def sequential(chat: str, token: str) -> list[dict[str, Any]]:
    """Each query alone: 3 warm-up requests, then :data:`SEQUENTIAL_RUNS` timed one after another."""
    results = []
    with httpx.Client(
        base_url=f"{chat}{API}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        for query in QUERIES:
            params = {"q": query, "limit": PAGE}
            hits = 0
            for _ in range(3):
                answer = client.get("/search", params=params)
                if answer.status_code != 200:
                    raise BenchError(
                        f"GET /search?q={query} answered {answer.status_code}: {answer.text[:300]}"
                    )
                hits = len(answer.json()["items"])
            timings = []
            for _ in range(SEQUENTIAL_RUNS):
                began = time.perf_counter()
                answer = client.get("/search", params=params)
                timings.append((time.perf_counter() - began) * 1000)
                if answer.status_code != 200:
                    raise BenchError(f"GET /search?q={query} answered {answer.status_code}")
            results.append(
                {
                    "query": query,
                    "page_hits": hits,
                    "p50_ms": round(statistics.median(timings), 2),
                    "p99_ms": round(percentile(timings, 0.99), 2),
                    "max_ms": round(max(timings), 2),
                }
            )
    return results


async def matches(dsn: str, owner_id: uuid.UUID) -> dict[str, int]:
    """How many of the user's messages each query matches (what the database ranks for it)."""
    conn = await asyncpg.connect(dsn)
    try:
        return {
            query: await conn.fetchval(
                "SELECT count(*) FROM messages WHERE owner_id = $1 AND status <> 'pending'"
                " AND search @@ websearch_to_tsquery('english', $2)",
                owner_id,
                query,
            )
            for query in QUERIES
        }
    finally:
        await conn.close()


# wrk: every request the next query of the rotation; done() as deploy/bench/wrk.lua writes it
LOAD_SCRIPT: Final = """
local paths = {}
for path in string.gmatch(os.getenv("BENCH_SEARCH_PATHS"), "[^\\n]+") do paths[#paths + 1] = path end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""


def under_load(chat: str, token: str, out: Path) -> dict[str, Any] | None:
    """All the queries in rotation on :data:`LOAD_CONNECTIONS` connections (None without wrk)."""
    if shutil.which("wrk") is None:
        return None
    done = (Path(__file__).parent / "wrk.lua").read_text().split("\ndone = function", 1)[1]
    paths = "\n".join(f"{API}/search?{httpx.QueryParams({'q': query, 'limit': PAGE})}" for query in QUERIES)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LOAD_SCRIPT + "\ndone = function" + done)
    try:
        command = [
            "wrk", "-t2", f"-c{LOAD_CONNECTIONS}", f"-d{LOAD_SECONDS}s", "--timeout", "10s", "--latency",
            "-s", script.name, "-H", f"Authorization: Bearer {token}", f"{chat}{API}/search",
        ]  # fmt: skip
        env = {"BENCH_SEARCH_PATHS": paths, "PATH": "/usr/bin:/bin:/usr/local/bin"}
        subprocess.run(
            [*command[:3], "-d2s", *command[4:]], env=env, capture_output=True, check=False
        )  # warm-up
        run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    finally:
        Path(script.name).unlink(missing_ok=True)
    (out / "chat-search.wrk.out").write_text(run.stdout + run.stderr)
    found = RESULT_LINE.findall(run.stdout)
    if run.returncode != 0 or not found:
        raise BenchError(f"wrk failed: {(run.stdout + run.stderr)[-600:]}")
    data = json.loads(found[-1])
    return {
        "requests": data["requests"],
        "per_second": round(data["requests"] / (data["duration_us"] / 1e6), 1),
        "p50_ms": round(data["p50_us"] / 1000, 2),
        "p99_ms": round(data["p99_us"] / 1000, 2),
        "non_2xx": data["status"],
        "errors": sum(int(data[k]) for k in ("connect", "read", "write", "timeout")),
    }


async def explain(dsn: str, owner_id: uuid.UUID, query: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the service's own search statement for ``query``."""
    compiled = CompiledQuery.of(SEARCH)
    values = {"q": query, "owner_id": owner_id, "after_rank": None, "after_id": None, "limit": PAGE + 1}
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {compiled.sql}", *compiled.args(values))
    finally:
        await conn.close()
    return "\n".join(row[0] for row in rows)


def fresh_token(identity: str | None, login_body: str) -> str:
    if identity is None:
        raise BenchError("--login-body needs --identity")
    answer = httpx.post(
        f"{loopback(identity)}{API}/auth/login",
        content=login_body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    if answer.status_code != 200:
        raise BenchError(f"POST /auth/login answered {answer.status_code}: {answer.text[:300]}")
    return str(answer.json()["access_token"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chat_search.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--pg-port", type=int, required=True)
    parser.add_argument("--chat", required=True, help="chat's base URL")
    token = parser.add_mutually_exclusive_group(required=True)
    token.add_argument("--token", help="an access token of the user")
    token.add_argument(
        "--login-body",
        help="the user's login JSON: a fresh token is taken from --identity (bench.sh's logins run"
        " before this step, and identity revokes a user's oldest sessions past its cap)",
    )
    parser.add_argument("--identity", default=None, help="identity's base URL, with --login-body")
    parser.add_argument("--user-id", type=uuid.UUID, required=True)
    parser.add_argument("--out", type=Path, default=None, help="where to keep the plan and results.json")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="chat-search-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        chat = loopback(args.chat)
        access = args.token or fresh_token(args.identity, args.login_body)
        dsn = service_dsn(args.state_dir, args.pg_port, "chat")
        began = time.monotonic()
        seeded = asyncio.run(seed(dsn, args.user_id))
        print(
            f"  seeded {seeded['user_messages']:,} messages of the bench user"
            f" ({USER_CONVERSATIONS:,} conversations) and {seeded['other_messages']:,} of {OTHER_USERS}"
            f" other users: text {seeded['generate_s']} s,"
            f" COPY {seeded['copy_s']} s, VACUUM ANALYZE {seeded['vacuum_s']} s"
        )
        counted = asyncio.run(matches(dsn, args.user_id))
        alone = sequential(chat, access)
        print(
            f"\n  each query alone, {SEQUENTIAL_RUNS} requests one after another"
            f" (limit={PAGE}; client-side times):"
        )
        print(f"  {'query':<28} {'matches':>9} {'page':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
        for result in alone:
            result["matches"] = counted[result["query"]]
            print(
                f"  {result['query']:<28} {result['matches']:>9,} {result['page_hits']:>5}"
                f" {result['p50_ms']:>9.2f} {result['p99_ms']:>9.2f} {result['max_ms']:>9.2f}"
            )
        loaded = under_load(chat, access, out)
        if loaded is None:
            print("\n  under load: skipped (wrk is not installed)")
        else:
            flag = (
                "" if loaded["non_2xx"] == 0 and loaded["errors"] == 0 else "   <- errors: figure not valid"
            )
            print(
                f"\n  all {len(QUERIES)} queries in rotation, {LOAD_CONNECTIONS} connections,"
                f" {LOAD_SECONDS} s (wrk): {loaded['per_second']:,.0f} req/s, p50 {loaded['p50_ms']:.2f} ms,"
                f" p99 {loaded['p99_ms']:.2f} ms"
                f", non-2xx {loaded['non_2xx']}, errors {loaded['errors']}{flag}"
            )
        plan = asyncio.run(explain(dsn, args.user_id, EXPLAINED))
        (out / "chat-search.plan.txt").write_text(plan + "\n")
        uses_gin = "messages_search_idx" in plan and "conversations_search_idx" in plan
        scans = [
            line.strip().lstrip("-> ").split("  (")[0] for line in plan.splitlines() if "Index Scan" in line
        ]
        took = next(
            (line.strip() for line in plan.splitlines() if line.strip().startswith("Execution Time")), ""
        )
        print(
            f"\n  plan of q={EXPLAINED!r} (EXPLAIN ANALYZE of the service's statement): GIN indexes"
            f" {'used' if uses_gin else 'NOT used'}; {'; '.join(scans)}; {took}"
            f" (whole plan: {out / 'chat-search.plan.txt'})"
        )
        (out / "chat-search.json").write_text(
            json.dumps(
                {"seeded": seeded, "alone": alone, "under_load": loaded, "gin_used": uses_gin}, indent=2
            )
            + "\n"
        )
        print(f"\n  chat search done in {time.monotonic() - began:.0f} s")
    except (BenchError, OSError, asyncpg.PostgresError, httpx.HTTPError) as exc:
        print(f"bench: chat search: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
