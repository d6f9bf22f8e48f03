"""The command line every service ships: ``aiorch-<service> migrate | api | worker | dead-letters``.

A service's ``main`` is ``run(service_commands(ROOT), argv)``: the actions come
from its composition root (each loads the settings it needs); this module owns
the argument parsing, the exit codes and the dead-letter commands, which are the
same everywhere. A missing or invalid setting exits with status 2 and a message
naming the environment variable, before anything connects.

Dead letters are scoped to the service: by default the commands see only the
letters of its own consumers (``<service>.<purpose>``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
import uvloop
from nats.js import JetStreamContext

from shared.bootstrap import ServiceRoot
from shared.logging import configure_logging
from shared.messaging.connection import connect_nats
from shared.messaging.deadletter import DeadLetter, list_dead_letters, replay
from shared.settings import SettingsError

EXIT_USAGE = 2
NATS_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class ServiceCommands:
    """What a service plugs into its command line."""

    service: str
    migrate: Callable[[], None]
    api: Callable[[], None]
    worker: Callable[[], None]
    nats_url: Callable[[], str]
    """Loads the settings and tells where NATS is (for the dead-letter commands)."""


def service_commands(root: ServiceRoot[Any, Any]) -> ServiceCommands:
    """The commands of the service composed by ``root``."""

    def migrate() -> None:
        settings = root.load_core_settings()
        configure_logging(root.service, settings.log_level)
        asyncio.run(root.migrate(settings))

    def api() -> None:
        settings = root.load_settings()
        configure_logging(root.service, settings.log_level)
        with metrics_shared_by_workers(settings.http_workers):
            uvicorn.run(
                root.app_factory,
                factory=True,
                host=settings.http_host,
                port=settings.http_port,
                workers=settings.http_workers,
                loop="uvloop",
                http="httptools",
                log_config=None,
                access_log=False,
                proxy_headers=True,
                forwarded_allow_ips=settings.trusted_proxies,
                server_header=False,  # no "server: uvicorn" banner telling what to attack
                # requests in flight get this long after the signal; streams are ended at once
                # (shared.http.draining), so only real work waits
                timeout_graceful_shutdown=settings.shutdown_grace_s,
                # a reply's frames are a few bytes each: compressing every one costs more CPU than
                # it saves bytes (measured with chat's 500 streams), and a context per socket
                ws_per_message_deflate=False,
            )

    def worker() -> None:
        settings = root.load_settings()
        configure_logging(root.service, settings.log_level)
        uvloop.run(root.run_worker(settings))

    return ServiceCommands(
        service=root.service,
        migrate=migrate,
        api=api,
        worker=worker,
        nats_url=lambda: root.load_settings().nats_url,
    )


@contextmanager
def metrics_shared_by_workers(workers: int) -> Iterator[None]:
    """With several API processes, make ``/metrics`` (answered by any one) count all of them.

    prometheus_client's multiprocess mode: each worker writes its series to files in one
    directory, which the ``/metrics`` handler sums. The workers are spawned, so they see
    the variable when they import prometheus_client. The directory lives as long as the
    server; one given in ``PROMETHEUS_MULTIPROC_DIR`` is the operator's to empty at start.
    """
    if workers == 1 or "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        yield
        return
    # Memory-backed where there is one: the files are rewritten on every request, and on a
    # disk the kernel would keep writing the dirty pages back.
    # mkdtemp makes a private (0700), unpredictably named directory in it.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
    with tempfile.TemporaryDirectory(prefix="aiorch-metrics-", dir=shm) as directory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


def build_parser(service: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"aiorch-{service}", description=f"The aiorch {service} service.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("migrate", help="upgrade the service's schema to the latest revision")
    commands.add_parser("api", help="serve the HTTP API (uvicorn)")
    commands.add_parser("worker", help="run the outbox relay and the event consumers")
    dead = commands.add_parser("dead-letters", help="list or replay parked event messages")
    actions = dead.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list this service's dead letters")
    again = actions.add_parser("replay", help="publish dead letters again and drop them")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("--seq", type=int, help="the dead letter's sequence number (from list)")
    which.add_argument("--all", action="store_true", help="every dead letter in scope")
    for sub in (listing, again):
        sub.add_argument("--consumer", help=f"only this consumer's letters, e.g. {service}.user-erasure")
    return parser


def run(commands: ServiceCommands, argv: Sequence[str] | None = None) -> int:
    args = build_parser(commands.service).parse_args(argv)
    try:
        if args.command == "migrate":
            commands.migrate()
        elif args.command == "api":
            commands.api()
        elif args.command == "worker":
            commands.worker()
        else:
            return asyncio.run(_dead_letters(commands, args))
    except SettingsError as exc:
        print(f"aiorch-{commands.service}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return 0


async def _dead_letters(commands: ServiceCommands, args: argparse.Namespace) -> int:
    nc = await connect_nats(commands.nats_url(), name=f"{commands.service}-cli", wait=NATS_WAIT_S)
    try:
        js = nc.jetstream()
        # Not ensured here: the services create it, with the replicas their settings ask for.
        letters = await _in_scope(js, commands.service, args.consumer)
        if args.action == "list":
            _print(letters)
            return 0
        chosen = letters if args.all else [letter for letter in letters if letter.seq == args.seq]
        if not args.all and not chosen:
            print(f"no dead letter with sequence {args.seq} in scope", file=sys.stderr)
            return 1
        for letter in chosen:
            await replay(js, letter)
            print(f"replayed {letter.seq} ({letter.event_type} {letter.event_id}) to {letter.subject}")
        return 0
    finally:
        await nc.close()


async def _in_scope(js: JetStreamContext, service: str, consumer: str | None) -> list[DeadLetter]:
    letters = await list_dead_letters(js, consumer=consumer)
    if consumer is not None:
        return letters
    return [letter for letter in letters if letter.consumer.startswith(f"{service}.")]


def _print(letters: Sequence[DeadLetter]) -> None:
    if not letters:
        print("no dead letters")
        return
    print("SEQ\tCONSUMER\tEVENT TYPE\tEVENT ID\tDELIVERIES\tREASON")
    for letter in letters:
        print(
            f"{letter.seq}\t{letter.consumer}\t{letter.event_type or '-'}\t{letter.event_id or '-'}\t"
            f"{letter.deliveries}\t{letter.reason}"
        )
