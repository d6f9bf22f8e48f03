"""A ring of AES-256 keys kept in one JSON file: ``{"current": id, "keys": {id: base64 key}}``.

The file is a secret (mode 0600). Opening a path where no file is yet generates the first
key, so ``make run`` needs no configuration (as identity's signing keys); in a container
the file is mounted from a secret store instead and only read. Writes (the first key, a
rotation) are atomic (temporary file, fsync, rename) under an exclusive ``fcntl`` lock, so
two processes starting at once agree on one first key. A key id the ring does not know
makes it read the file again once: another process (the ``rotate-model-keys`` command) may
have added it.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import structlog

KEY_BYTES: Final = 32
_log = structlog.get_logger("orchestrator.keys")


class KeyFileError(Exception):
    """The key file is missing parts, malformed, or cannot be written."""


@dataclass(frozen=True, slots=True)
class Keys:
    current: str
    keys: Mapping[str, bytes] = field(repr=False)

    def with_new_current(self) -> Keys:
        key_id = f"k{secrets.token_hex(6)}"
        return Keys(current=key_id, keys={**self.keys, key_id: secrets.token_bytes(KEY_BYTES)})

    def to_json(self) -> bytes:
        keys = {kid: base64.b64encode(key).decode("ascii") for kid, key in self.keys.items()}
        return json.dumps({"current": self.current, "keys": keys}, indent=2).encode()

    @classmethod
    def from_json(cls, raw: bytes, path: Path) -> Keys:
        try:
            document = json.loads(raw)
            keys = {str(kid): base64.b64decode(text, validate=True) for kid, text in document["keys"].items()}
            current = str(document["current"])
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise KeyFileError(
                f"{path}: not a key file ({type(exc).__name__}); expected "
                '{"current": "<id>", "keys": {"<id>": "<base64 of 32 bytes>"}}'
            ) from None
        if current not in keys:
            raise KeyFileError(f"{path}: the current key {current!r} is not among its keys")
        if short := [kid for kid, key in keys.items() if len(key) != KEY_BYTES]:
            raise KeyFileError(f"{path}: keys {', '.join(short)} are not {KEY_BYTES} bytes long")
        return cls(current=current, keys=keys)


class KeyFile:
    """The ring in ``path``, generated there on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            with self._locked():
                if not path.exists():
                    first = Keys(current="", keys={}).with_new_current()
                    self._write(first)
                    _log.info("model key generated", key_id=first.current, path=str(path))
        self._keys = self._read()

    @property
    def current(self) -> tuple[str, bytes]:
        return self._keys.current, self._keys.keys[self._keys.current]

    def key(self, key_id: str) -> bytes | None:
        """The key ``key_id``, re-reading the file once when it is not known yet."""
        key = self._keys.keys.get(key_id)
        if key is None:
            self._keys = self._read()
            key = self._keys.keys.get(key_id)
        return key

    def rotate(self) -> str:
        """Adds a new key and makes it current (older keys stay, to decrypt what they encrypted)."""
        with self._locked():
            rotated = self._read().with_new_current()
            self._write(rotated)
        self._keys = rotated
        _log.info("model key rotated", key_id=rotated.current, path=str(self.path))
        return rotated.current

    def _read(self) -> Keys:
        try:
            with self.path.open("rb") as file:
                if os.fstat(file.fileno()).st_mode & 0o077:
                    _log.warning("key file was readable by others; restricting it", path=str(self.path))
                    with suppress(OSError):  # a read-only mount: the operator's choice
                        os.fchmod(file.fileno(), 0o600)
                return Keys.from_json(file.read(), self.path)
        except OSError as exc:
            raise KeyFileError(f"{self.path}: {exc.strerror}") from None

    def _write(self, keys: Keys) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(keys.to_json())
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    @contextmanager
    def _locked(self) -> Iterator[None]:
        descriptor = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)
