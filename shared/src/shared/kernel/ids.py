"""Time-ordered identifiers (UUIDv7, RFC 9562) so primary-key inserts stay index-friendly.

Written here rather than taken from a package (``uuid6``) because the pure core may
import only the standard library and msgspec, and Python 3.11's ``uuid`` has no v7.
It follows RFC 9562's method 3 for monotonicity: 48 bits of Unix milliseconds, then a
12-bit counter seeded at random each millisecond and incremented within one, so ids
made by one process sort in the order they were made even within a millisecond.
"""

from __future__ import annotations

import os
import threading
import time
from uuid import UUID

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> UUID:
    """A fresh UUIDv7 as a standard :class:`uuid.UUID`."""
    global _last_ms, _counter
    random = int.from_bytes(os.urandom(10), "big")
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms, _counter = ms, random >> 69  # 11 random bits: room to count up
        else:  # same millisecond, or the clock stepped back: keep counting after the last
            _counter += 1
            if _counter > 0xFFF:  # the counter ran out: borrow the next millisecond
                _last_ms, _counter = _last_ms + 1, 0
        ms, counter = _last_ms, _counter
    rand_b = random & ((1 << 62) - 1)
    return UUID(int=(ms << 80) | _VERSION | (counter << 64) | _VARIANT | rand_b)
