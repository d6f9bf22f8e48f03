"""Loopback port helpers."""

import random
import socket
import time
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, *, timeout: float = 30.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port, host):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")
        time.sleep(0.05)


def free_port_blocks(count: int, offsets: Sequence[int] = (0,)) -> list[int]:
    """``count`` distinct base ports on 127.0.0.1, each free together with ``base + offset`` for
    every offset (a process's derived ports: its worker's, its replicas'), no two blocks sharing
    a port.

    Picked below the kernel's ephemeral range, unlike :func:`free_port`: a port in that range is
    free when checked but may become the local port of some outgoing connection before the
    server binds it (a system test's cluster once failed to start on a worker port taken so)."""
    low = _ephemeral_low()
    top = low - 1 - max(offsets)
    taken: set[int] = set()
    blocks: list[int] = []
    while len(blocks) < count:
        base = random.randint(_FIRST_FIXED_PORT, top)
        block = {base + offset for offset in offsets}
        if not block & taken and all(_bindable(port) for port in block):
            taken |= block
            blocks.append(base)
    return blocks


_FIRST_FIXED_PORT = 10_000


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
