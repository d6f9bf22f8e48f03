"""``make bench``'s chat streaming step: 500 WebSocket streams at once on ONE chat API process.

bench.sh runs it in its last configuration, against the private cluster it started; it prints
figures and asserts nothing (bench.sh goes on if it fails).

1. Starts ONE chat API process of its own (``chat_api.py``: one uvicorn worker, serving
   in-process) with the offline model pacing :data:`PACE_MS` ms per token
   (``CHAT_OFFLINE_PACE_MS``); everything else as ``make up`` starts chat (access log on, a pool
   of 10 database connections, 10 more on a burst).
2. Registers :data:`USERS` users (ten clients each: one user's posts and reply completions all
   take its budget row in turn, so a single user's 500 streams would measure that lock, not the
   streaming; identity must take that many sign-ups from one IP, which bench.sh allows its
   cluster; with fewer, the step makes do and says how many), raises the budgets
   (``chat_api.raise_budgets``: the clients post far more than the default 200 messages a day)
   and creates :data:`CLIENTS` conversations through ``POST /api/v1/conversations``, titled so
   that no auto title runs after the first reply.
3. Warms the process up (:data:`WARM_UP` streams, one message each), reads its RSS, opens the
   :data:`CLIENTS` conversation sockets (subprotocols ``aiorch.v1`` and ``bearer.<token>``),
   reads the RSS again (sockets open, idle).
4. The clients start one after another over :data:`RAMP_S` s (one reply's length), as a load
   test ramps up its users: replies then start and end spread over time, as people's do,
   instead of 500 posts and 500 ends landing in the same second every 8 s. Each client sends
   ``{"type": "message", ...}``, reads the frames (``accepted``, the ``chunk``s, ``done``)
   and, once its reply is done, sends the next message, until :data:`RUN_S` s after the ramp:
   from the ramp's end on, :data:`CLIENTS` replies stream at every moment. The client stamps
   each chunk as it reads it: one process, uvloop, a minimal WebSocket client of its own
   (``light_socket.py``: frames parsed where they are read, a prefix check per chunk frame, no
   JSON decoding of chunks), as light as a load generator sharing the server's cores must be.

Figures: the **added latency per token**: for each reply, the gaps between consecutive chunks
minus the model's pace (the offline model sleeps :data:`PACE_MS` ms before each token after the
first), p50/p90/p99/max over every gap read once all :data:`CLIENTS` stream (the goal's figure;
the ramp's gaps are printed apart); the time from sending a message to its first chunk; how
many replies were streaming at once; the RSS of the API process before, with the sockets open
and at its peak while streaming, per stream; the CPU the API process, NATS and this client used
over the measured window, per chunk.

The machine: the API process, NATS, PostgreSQL and this client share the same cores (2 on the
bench VM); the client's own event-loop lag is printed, since a late read is counted as added
latency. Bounded: the whole step stops after :data:`DEADLINE_S` s.

Run alone against a running cluster (``make up``)::

    .venv/bin/python deploy/bench/chat_streams.py --state-dir .cluster --pg-port 15432 \\
        --nats-port 14222 --identity http://127.0.0.1:8001 --orchestrator http://127.0.0.1:8003
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import psutil  # type: ignore[import-untyped]
import uvloop
from bench import API, BenchError, loopback
from chat_api import Cluster, bare_server, chat_api, exit_on_sigterm, raise_budgets, register
from light_socket import LightSocket, SocketFailed, connect

CLIENTS: Final = 500
USERS: Final = 50  # the clients' owners, 10 conversations each (bench.sh lets identity take the sign-ups)
PACE_MS: Final = 20
REPLY_TOKENS: Final = 400
"""The offline model's replies are at least this long (``CHAT_OFFLINE_MIN_REPLY_TOKENS``): 8 s of
streaming each at the pace, so the 500 streams stream at once instead of the step measuring how
fast short replies are posted (its default answer is ~45 tokens: under a second)."""
OFFLINE_MODEL: Final = {
    "CHAT_OFFLINE_PACE_MS": str(PACE_MS),
    "CHAT_OFFLINE_MIN_REPLY_TOKENS": str(REPLY_TOKENS),
}
RUN_S: Final = 12.0
"""The measured window, after the ramp: every client streaming."""
RAMP_S: Final = REPLY_TOKENS * PACE_MS / 1000
"""Client n sends its first message ``n * RAMP_S / CLIENTS`` s after the start."""
WARM_UP: Final = 10
OPENING_AT_ONCE: Final = 25  # handshakes in flight while the sockets open
SAMPLE_S: Final = 0.1
LAG_TICK_S: Final = 0.01
DEADLINE_S: Final = 160.0  # the whole step, start-up of the API process and the floor included
CHUNK_PREFIX: Final = '{"type":"chunk"'
SUBPROTOCOL: Final = "aiorch.v1"


@dataclass
class Reply:
    """One reply as one client saw it (``time.perf_counter()`` stamps)."""

    sent: float
    chunks: list[float] = field(default_factory=list)
    done: float | None = None
    error: str | None = None

    @property
    def first(self) -> float | None:
        return self.chunks[0] if self.chunks else None


@dataclass
class Client:
    index: int
    token: str
    conversation_id: str
    replies: list[Reply] = field(default_factory=list)
    failure: str | None = None


@dataclass
class Samples:
    rss: list[int] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def socket_url(chat: str, conversation_id: str) -> str:
    return f"{chat.replace('http://', 'ws://', 1)}{API}/conversations/{conversation_id}/ws"


async def create_conversations(chat: str, tokens: list[str], count: int) -> list[tuple[str, str]]:
    """``count`` conversations, the n-th of the n-th user modulo their number: (token, id) pairs."""
    gate = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=f"{chat}{API}", timeout=30) as client:

        async def one(number: int) -> tuple[str, str]:
            token = tokens[number % len(tokens)]
            async with gate:
                made = await client.post(
                    "/conversations",
                    json={"title": f"Bench stream {number}"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            if made.status_code != 201:
                raise BenchError(f"POST /conversations answered {made.status_code}: {made.text[:300]}")
            return token, str(made.json()["id"])

        return list(await asyncio.gather(*(one(n) for n in range(count))))


class Options:
    deflate = True  # offer permessage-deflate, as browsers do (--no-deflate: plain frames)


class Conversation:
    """One client's socket and the reply it waits for; frames are handled where they are read."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.socket: LightSocket | None = None
        self.extensions: str | None = None
        self._reply: Reply | None = None
        self._finished: asyncio.Future[Reply] | None = None

    async def open(self, chat: str) -> Conversation:
        self.socket = await connect(
            socket_url(chat, self.client.conversation_id),
            [SUBPROTOCOL, f"bearer.{self.client.token}"],
            self.on_text,
            extensions="permessage-deflate" if Options.deflate else None,
        )
        self.extensions = (await self.socket.opened).get("sec-websocket-extensions")
        if self.extensions:
            raise BenchError(f"the server negotiated {self.extensions}: this client reads plain frames only")
        return self

    def on_text(self, text: str, read_at: float) -> None:
        reply, finished = self._reply, self._finished
        if reply is None or finished is None:
            return
        if text.startswith(CHUNK_PREFIX):
            reply.chunks.append(read_at)
            return
        frame = json.loads(text)
        kind = frame.get("type")
        if kind == "accepted":
            return
        if kind == "done":
            reply.done = read_at
        else:
            reply.error = f"{kind}: {json.dumps(frame.get('problem', frame))[:300]}"
        self._reply = self._finished = None
        finished.set_result(reply)

    async def converse(self, content: str) -> Reply:
        """One message and its reply, to the ``done`` frame."""
        assert self.socket is not None
        reply = Reply(sent=time.perf_counter())
        self.client.replies.append(reply)
        self._reply, self._finished = reply, asyncio.get_running_loop().create_future()
        finished = self._finished
        self.socket.send_text(json.dumps({"type": "message", "content": content}))
        await asyncio.wait([finished, self.socket.closed], return_when=asyncio.FIRST_COMPLETED)
        if not finished.done():
            self.socket.closed.result()  # raises why it closed
        return finished.result()

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()


def content_of(client: Client, number: int) -> str:
    return (
        f"Client {client.index}, message {number}: how should we roll out the new deployment"
        " pipeline, and what does the rollback plan look like?"
    )


async def run_client(conversation: Conversation, start: asyncio.Event, until: list[float]) -> None:
    client = conversation.client
    await start.wait()
    await asyncio.sleep(client.index * RAMP_S / CLIENTS)
    number = 0
    try:
        while time.perf_counter() < until[0]:
            number += 1
            reply = await conversation.converse(content_of(client, number))
            if reply.error is not None:
                client.failure = reply.error
                return
    except (SocketFailed, OSError) as exc:
        client.failure = f"{type(exc).__name__}: {exc}"


async def sample(pid: int, samples: Samples, stop: asyncio.Event) -> None:
    process = psutil.Process(pid)
    while not stop.is_set():
        samples.rss.append(process.memory_info().rss)
        await asyncio.sleep(SAMPLE_S)


async def lag(samples: Samples, stop: asyncio.Event) -> None:
    """This client's own event-loop lag: how late a 10 ms sleep wakes up."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(LAG_TICK_S)
        samples.lag_ms.append((time.perf_counter() - before - LAG_TICK_S) * 1000)


def cpu_seconds(*processes: psutil.Process) -> float:
    total = 0.0
    for process in processes:
        times = process.cpu_times()
        total += times.user + times.system
    return total


async def measure_chat(chat: str, tokens: list[str], api_pid: int, nats_pid: int | None) -> dict[str, Any]:
    began = time.perf_counter()
    ids = await create_conversations(chat, tokens, CLIENTS + WARM_UP)
    created_s = time.perf_counter() - began
    return {**await measure(chat, ids, api_pid, nats_pid), "created_s": created_s, "users": len(tokens)}


def floor_conversations() -> list[tuple[str, str]]:
    """The bare server's sockets: it reads no token and keeps no conversation."""
    return [("-", str(uuid.uuid4())) for _ in range(CLIENTS + WARM_UP)]


async def measure(url: str, ids: list[tuple[str, str]], api_pid: int, nats_pid: int | None) -> dict[str, Any]:
    """The streams of ``ids`` (token, conversation id) against the server at ``url``."""
    api = psutil.Process(api_pid)
    nats = psutil.Process(nats_pid) if nats_pid else None
    here = psutil.Process()

    # warm-up: a few streams through every code path, so the baseline RSS is the warm process's
    warm = [
        Client(-n - 1, token, conversation_id) for n, (token, conversation_id) in enumerate(ids[CLIENTS:])
    ]

    async def warm_one(client: Client) -> None:
        conversation = await Conversation(client).open(url)
        try:
            await conversation.converse(content_of(client, 1))
        finally:
            conversation.close()

    await asyncio.gather(*(warm_one(client) for client in warm))
    warm_errors = [r.error for c in warm for r in c.replies if r.error]
    if warm_errors:
        raise BenchError(f"the warm-up stream failed: {warm_errors[0]}")
    await asyncio.sleep(1.0)
    rss_before = api.memory_info().rss

    clients = [Client(n, token, conversation_id) for n, (token, conversation_id) in enumerate(ids[:CLIENTS])]
    gate = asyncio.Semaphore(OPENING_AT_ONCE)

    async def opened(client: Client) -> Conversation:
        async with gate:
            return await Conversation(client).open(url)

    opening = time.perf_counter()
    conversations = await asyncio.gather(*(opened(client) for client in clients))
    open_s = time.perf_counter() - opening
    extensions = conversations[0].extensions
    await asyncio.sleep(1.0)
    rss_open = api.memory_info().rss

    samples = Samples()
    stop = asyncio.Event()
    start = asyncio.Event()
    until = [0.0]
    watchers = [asyncio.create_task(sample(api_pid, samples, stop)), asyncio.create_task(lag(samples, stop))]
    runs = [asyncio.create_task(run_client(conversation, start, until)) for conversation in conversations]
    await asyncio.sleep(0.2)  # every client waits on the start
    ramped = time.perf_counter() + RAMP_S
    until[0] = ramped + RUN_S
    start.set()
    await asyncio.sleep(max(0.0, ramped - time.perf_counter()))
    cpu_before = (cpu_seconds(api), cpu_seconds(nats) if nats else 0.0, cpu_seconds(here))
    await asyncio.sleep(max(0.0, until[0] - time.perf_counter()))
    cpu_after = (cpu_seconds(api), cpu_seconds(nats) if nats else 0.0, cpu_seconds(here))
    await asyncio.gather(*runs)  # the replies in flight at the window's end, not counted
    stop.set()
    await asyncio.gather(*watchers)
    for conversation in conversations:
        conversation.close()
    return {
        "clients": clients,
        "samples": samples,
        "ramped": ramped,
        "measured_until": until[0],
        "open_s": open_s,
        "extensions": extensions,
        "rss_before": rss_before,
        "rss_open": rss_open,
        "cpu": [after - before for before, after in zip(cpu_before, cpu_after, strict=True)],
    }


def in_flight(clients: list[Client], at: float) -> int:
    """Replies streaming at ``at``: their first chunk arrived, their ``done`` not yet."""
    count = 0
    for client in clients:
        for reply in client.replies:
            first = reply.first
            if first is not None and first <= at and (reply.done is None or reply.done > at):
                count += 1
    return count


def gaps_of(result: dict[str, Any]) -> tuple[list[float], list[float]]:
    """The added latency of every gap between chunks (ms): once every client streams (the
    goal's figure), and during the ramp."""
    pace = PACE_MS / 1000
    ramped, until = result["ramped"], result["measured_until"]
    gaps: list[float] = []
    ramp_gaps: list[float] = []
    for client in result["clients"]:
        for reply in client.replies:
            for earlier, later in zip(reply.chunks, reply.chunks[1:], strict=False):
                if later < ramped:
                    ramp_gaps.append((later - earlier - pace) * 1000)
                elif later <= until:
                    gaps.append((later - earlier - pace) * 1000)
    return gaps, ramp_gaps


def chunks_in_window(result: dict[str, Any]) -> int:
    ramped, until = result["ramped"], result["measured_until"]
    return sum(1 for c in result["clients"] for r in c.replies for at in r.chunks if ramped <= at <= until)


def report(result: dict[str, Any], floor: dict[str, Any], took_s: float) -> dict[str, Any]:
    clients: list[Client] = result["clients"]
    samples: Samples = result["samples"]
    pace = PACE_MS / 1000
    ramped, until = result["ramped"], result["measured_until"]
    gaps, ramp_gaps = gaps_of(result)
    floor_gaps, _ = gaps_of(floor)
    replies = [reply for client in clients for reply in client.replies]
    finished = [r for r in replies if r.done is not None and r.error is None]
    first_ms = [(r.first - r.sent) * 1000 for r in replies if r.first is not None]
    failures = [c.failure for c in clients if c.failure]
    window = [ramped + step * 0.25 for step in range(int(RUN_S / 0.25) + 1)]
    concurrency = [in_flight(clients, at) for at in window]
    seconds = until - ramped
    tokens = chunks_in_window(result)
    floor_seconds = floor["measured_until"] - floor["ramped"]
    floor_tokens = chunks_in_window(floor)
    floor_cpu = floor["cpu"][0]
    api_cpu, nats_cpu, client_cpu = result["cpu"]
    peak = max(samples.rss) if samples.rss else result["rss_open"]
    mib = 1024 * 1024

    def ms(values: list[float], fraction: float) -> str:
        return f"{percentile(values, fraction):.2f}"

    print(
        f"\n  {CLIENTS} clients of {result['users']} users, one conversation socket each, on ONE chat API"
        f" process; offline model pacing {PACE_MS} ms/token; replies >= {REPLY_TOKENS} tokens;\n  the"
        f" clients start one after another over {RAMP_S:.0f} s, each sending its next message as soon as"
        f" its reply is done; measured: the {seconds:.0f} s after the ramp\n  (conversations created in"
        f" {result['created_s']:.1f} s, {CLIENTS} sockets opened in {result['open_s']:.1f} s;"
        f" permessage-deflate: {result['extensions'] or 'not negotiated'})"
    )
    print(
        f"\n  replies: {len(replies):,} sent, {len(finished):,} done, {len(failures)} client(s) failed;"
        f" {tokens:,} chunks read in the window ({tokens / seconds:,.0f}/s; {CLIENTS} streams at the"
        f" model's pace: {CLIENTS / pace:,.0f}/s)"
    )
    print(
        f"  replies streaming at once (every 250 ms of the window): min {min(concurrency)},"
        f" median {statistics.median(concurrency):.0f}, max {max(concurrency)}"
    )
    print(f"\n  added latency per token (gap between chunks - {PACE_MS} ms):")
    print(f"  {'':<34} {'gaps':>9} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'p99.9 ms':>9} {'max ms':>9}")
    rows = (
        (f"all {CLIENTS} streaming (the window)", gaps),
        ("the ramp", ramp_gaps),
        ("bare server, its window (the floor)", floor_gaps),
    )
    for label, values in rows:
        print(
            f"  {label:<34} {len(values):>9,} {ms(values, 0.5):>9} {ms(values, 0.9):>9} {ms(values, 0.99):>9}"
            f" {ms(values, 0.999):>9} {max(values, default=float('nan')):>9.2f}"
        )
    p99 = percentile(gaps, 0.99)
    verdict = "meets" if p99 < 5 else "BELOW"
    print(f"  p99 {p99:.2f} ms: {verdict} the goal (p99 < 5 ms over the model's own pace)")
    print(
        f"  the floor: a bare server (bare_streams.py: the same server, model and frames, nothing of"
        f" chat's own work) read {floor_tokens / floor_seconds:,.0f} chunks/s at"
        f" {floor_cpu / floor_seconds:.2f} core, {floor_cpu / max(floor_tokens, 1) * 1e6:,.1f} µs a chunk"
    )
    print("\n  time to first chunk (message sent → first chunk read), every reply:")
    print(f"  {'':<34} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    if first_ms:
        print(
            f"  {'':<34} {ms(first_ms, 0.5):>9} {ms(first_ms, 0.9):>9} {ms(first_ms, 0.99):>9}"
            f" {max(first_ms):>9.2f}"
        )
    print(
        f"\n  API process RSS: {result['rss_before'] / mib:,.1f} MiB warm,"
        f" {result['rss_open'] / mib:,.1f} MiB"
        f" with {CLIENTS} sockets open ({(result['rss_open'] - result['rss_before']) / CLIENTS / 1024:,.1f}"
        f" KiB per socket), peak {peak / mib:,.1f} MiB while streaming"
        f" ({(peak - result['rss_before']) / CLIENTS / 1024:,.1f} KiB per open stream)"
    )
    print(
        f"  CPU over the window (1.00 = one core): API process {api_cpu / seconds:.2f},"
        f" NATS {nats_cpu / seconds:.2f}, this client {client_cpu / seconds:.2f}"
        f" (machine: {psutil.cpu_count()} cores, load {' '.join(f'{v:.1f}' for v in psutil.getloadavg())})"
    )
    print(
        f"  API process CPU per chunk read: {api_cpu / tokens * 1e6:,.1f} µs (the posts and the replies'"
        " starts and ends in the window included)"
        if tokens
        else "  no chunk read in the window"
    )
    print(
        f"  this client's own event-loop lag (a 10 ms sleep's oversleep): p50 {ms(samples.lag_ms, 0.5)} ms,"
        f" p99 {ms(samples.lag_ms, 0.99)} ms: part of the added latency above is the client reading late"
    )
    if failures:
        print(f"  the first failure: {failures[0]}")
    print(f"\n  chat streams done in {took_s:.0f} s")
    return {
        "clients": CLIENTS,
        "pace_ms": PACE_MS,
        "run_s": round(seconds, 2),
        "replies": len(replies),
        "done": len(finished),
        "chunks": tokens,
        "added_ms": {
            "p50": percentile(gaps, 0.5),
            "p90": percentile(gaps, 0.9),
            "p99": p99,
            "p999": percentile(gaps, 0.999),
            "max": max(gaps, default=None),
        },
        "ramp_added_ms": {"p50": percentile(ramp_gaps, 0.5), "p99": percentile(ramp_gaps, 0.99)},
        "first_chunk_ms": {"p50": percentile(first_ms, 0.5), "p99": percentile(first_ms, 0.99)},
        "streaming_at_once": {
            "min": min(concurrency),
            "median": statistics.median(concurrency),
            "max": max(concurrency),
        },
        "rss": {"warm": result["rss_before"], "open": result["rss_open"], "peak": peak},
        "rss_per_socket_kib": (result["rss_open"] - result["rss_before"]) / CLIENTS / 1024,
        "rss_per_stream_kib": (peak - result["rss_before"]) / CLIENTS / 1024,
        "cpu_cores": {"api": api_cpu / seconds, "nats": nats_cpu / seconds, "client": client_cpu / seconds},
        "client_lag_ms": {"p50": percentile(samples.lag_ms, 0.5), "p99": percentile(samples.lag_ms, 0.99)},
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "floor": {
            "chunks": floor_tokens,
            "added_ms": {"p50": percentile(floor_gaps, 0.5), "p99": percentile(floor_gaps, 0.99)},
            "cpu_cores": floor_cpu / floor_seconds,
        },
    }


async def bounded(work: Coroutine[Any, Any, dict[str, Any]], seconds: float) -> dict[str, Any]:
    """``work`` within ``seconds``; SIGTERM cancels it (an exception raised by a signal handler
    would be swallowed by the transport callback it interrupts, under uvloop)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await asyncio.wait_for(work, seconds)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        exit_on_sigterm()  # removing the loop's handler left the default (die at once) in place


def nats_pid(state_dir: Path) -> int | None:
    try:
        run = json.loads((state_dir / "run" / "cluster.json").read_text())
        return int(run["processes"]["nats"]["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chat_streams.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--pg-port", type=int, required=True)
    parser.add_argument("--nats-port", type=int, required=True)
    parser.add_argument("--identity", required=True, help="identity's base URL")
    parser.add_argument("--orchestrator", required=True, help="orchestrator's base URL")
    parser.add_argument("--out", type=Path, default=None, help="where to keep the API's log and the figures")
    parser.add_argument(
        "--no-deflate", action="store_true", help="do not offer permessage-deflate (browsers offer it)"
    )
    args = parser.parse_args(argv)
    Options.deflate = not args.no_deflate
    out = args.out or Path(tempfile.mkdtemp(prefix="chat-streams-"))
    out.mkdir(parents=True, exist_ok=True)
    exit_on_sigterm()
    began = time.monotonic()
    try:
        cluster = Cluster(
            args.state_dir, args.pg_port, args.nats_port, loopback(args.identity), loopback(args.orchestrator)
        )
        with chat_api(cluster, out, "chat-streams-api", OFFLINE_MODEL) as api:
            tokens = register(cluster.identity, USERS, at_least=1)
            raise_budgets(cluster, api.url, tokens[0])
            left = DEADLINE_S - (time.monotonic() - began)
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                result = runner.run(
                    bounded(measure_chat(api.url, tokens, api.pid, nats_pid(args.state_dir)), left)
                )
        # the same clients against the bare server, alone on the machine as chat's API process was
        with (
            bare_server("bare_streams.py", out, "chat-streams-bare.log", cluster.marker(), OFFLINE_MODEL) as (
                bare,
                bare_pid,
            ),
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
        ):
            left = DEADLINE_S - (time.monotonic() - began)
            floor = runner.run(bounded(measure(bare, floor_conversations(), bare_pid, None), left))
        figures = report(result, floor, time.monotonic() - began)
        (out / "chat-streams.json").write_text(json.dumps(figures, indent=2) + "\n")
    except TimeoutError:
        print(f"bench: chat streams: not done within {DEADLINE_S:.0f} s", file=sys.stderr)
        return 1
    except asyncio.CancelledError:
        print("bench: chat streams: stopped (SIGTERM)", file=sys.stderr)
        return 143
    except (BenchError, OSError, httpx.HTTPError, psutil.Error, SocketFailed) as exc:
        print(f"bench: chat streams: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
