"""Ed25519 signing keys: a rotatable key ring kept in a directory, or fixed by configuration.

:class:`FileSigningKeys` keeps every key in one JSON file (mode 0600) in the state
directory, written atomically (temporary file, fsync, rename) under an exclusive
``fcntl`` lock, so two processes starting at once agree on one first key and a
rotation by the CLI is picked up by running API workers on their next use.
:class:`ConfiguredSigningKeys` takes the key from configuration instead (a PEM in an
environment variable, for containers), where rotation means changing that variable.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from identity.adapters.jwk import load_private_pem, load_public_pems, public_jwk, thumbprint
from shared.kernel.clock import Clock, SystemClock

KEYS_FILE: Final = "signing-keys.json"
_LOCK_FILE: Final = ".lock"
_FORMAT: Final = 1

_log = structlog.get_logger("identity.keys")

Status = Literal["active", "previous"]


class SigningKeysError(Exception):
    """The key store is unreadable, inconsistent, or cannot do what was asked."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveKey:
    """The key that signs now, for the token issuer."""

    kid: str
    private_key: Ed25519PrivateKey = field(repr=False)


class ActiveKeySource(Protocol):
    """Where the token issuer gets the current signing key (adapter-level: it holds private material)."""

    def active_key(self) -> ActiveKey: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class _StoredKey:
    kid: str
    created_at: datetime
    status: Status
    retire_after: datetime | None  # set when the key became previous
    private_key: Ed25519PrivateKey = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Ring:
    keys: tuple[_StoredKey, ...]

    @classmethod
    def first(cls, now: datetime) -> _Ring:
        return cls((_new_key(now),))

    def active(self) -> _StoredKey:
        return next(key for key in self.keys if key.status == "active")

    def published(self, now: datetime) -> list[_StoredKey]:
        previous = [k for k in self.keys if k.retire_after is not None and k.retire_after > now]
        return [self.active(), *sorted(previous, key=lambda k: k.created_at, reverse=True)]

    def next_retirement(self, now: datetime) -> datetime | None:
        """When the published set next loses a key by the clock alone (None: never)."""
        return min(
            (k.retire_after for k in self.keys if k.retire_after and k.retire_after > now), default=None
        )

    def rotated(self, *, overlap: timedelta, now: datetime) -> _Ring:
        demoted = [
            replace(k, status="previous", retire_after=now + overlap) if k.status == "active" else k
            for k in self.keys
        ]
        return _Ring((_new_key(now), *demoted))

    def without_expired(self, now: datetime) -> tuple[_Ring, list[str]]:
        expired = [k.kid for k in self.keys if k.retire_after is not None and k.retire_after <= now]
        return _Ring(tuple(k for k in self.keys if k.kid not in expired)), expired

    def to_json(self) -> bytes:
        document = {"format": _FORMAT, "keys": [_key_to_json(k) for k in self.keys]}
        return json.dumps(document, indent=2).encode()

    @classmethod
    def from_json(cls, data: bytes, source: Path) -> _Ring:
        try:
            document = json.loads(data)
            keys = tuple(_key_from_json(entry) for entry in document["keys"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SigningKeysError(f"{source} is not a readable key file: {type(exc).__name__}") from None
        if sum(k.status == "active" for k in keys) != 1:
            raise SigningKeysError(f"{source} must hold exactly one active key")
        return cls(keys)


class FileSigningKeys:
    """:class:`~identity.application.security.SigningKeys` kept in ``directory``.

    Opening an empty (or missing) directory generates the first key. ``jwks()`` leaves
    out previous keys whose overlap has passed even before :meth:`retire_expired`
    removes them from the file, so a forgotten clean-up never extends a key's life.
    It answers the same document object until the file changes or a key's overlap
    ends (token verification asks for it on every request).
    """

    def __init__(self, directory: Path, *, clock: Clock | None = None) -> None:
        self._directory = directory
        self._path = directory / KEYS_FILE
        self._clock = clock or SystemClock()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._locked():
            if not self._path.exists():
                ring = _Ring.first(self._clock.now())
                self._write(ring)
                _log.info("signing key generated", kid=ring.active().kid, path=str(self._path))
        self._ring, self._stamp = self._read()
        # (ring, valid until, document): the last jwks() answer, while it stays true.
        self._jwks: tuple[_Ring, datetime | None, dict[str, Any]] | None = None

    def current_kid(self) -> str:
        return self._current().active().kid

    def active_key(self) -> ActiveKey:
        key = self._current().active()
        return ActiveKey(kid=key.kid, private_key=key.private_key)

    def jwks(self) -> dict[str, Any]:
        ring, now = self._current(), self._clock.now()
        if self._jwks is not None:
            last_ring, valid_until, document = self._jwks
            if last_ring is ring and (valid_until is None or now < valid_until):
                return document
        document = {"keys": [public_jwk(k.private_key.public_key(), k.kid) for k in ring.published(now)]}
        self._jwks = (ring, ring.next_retirement(now), document)
        return document

    def rotate(self, *, overlap: timedelta, now: datetime) -> str:
        if overlap < timedelta(0):
            raise ValueError("the overlap cannot be negative")
        with self._locked():
            ring, _ = self._read()  # the file, not our copy: another process may have rotated
            ring = ring.rotated(overlap=overlap, now=now)
            self._write(ring)
        self._ring, self._stamp = self._read()
        _log.info("signing key rotated", kid=ring.active().kid, overlap_s=overlap.total_seconds())
        return ring.active().kid

    def retire_expired(self, *, now: datetime) -> list[str]:
        with self._locked():
            ring, _ = self._read()
            ring, retired = ring.without_expired(now)
            if retired:
                self._write(ring)
        self._ring, self._stamp = self._read()
        if retired:
            _log.info("signing keys retired", kids=retired)
        return retired

    def _current(self) -> _Ring:
        # One stat per use: cheap, and it makes a rotation by another process visible at once.
        try:
            stamp = _stamp(self._path.stat())
        except FileNotFoundError:
            _log.error("signing key file vanished; keeping the keys in memory", path=str(self._path))
            return self._ring
        if stamp != self._stamp:
            self._ring, self._stamp = self._read()
        return self._ring

    def _read(self) -> tuple[_Ring, tuple[int, ...]]:
        with self._path.open("rb") as file:
            info = os.fstat(file.fileno())
            if info.st_mode & 0o077:
                _log.warning("signing key file was readable by others; restricting it", path=str(self._path))
                os.fchmod(file.fileno(), 0o600)
            return _Ring.from_json(file.read(), self._path), _stamp(info)

    def _write(self, ring: _Ring) -> None:
        temporary = self._directory / f".{KEYS_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(ring.to_json())
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(self._directory)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        descriptor = os.open(self._directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock


class ConfiguredSigningKeys:
    """:class:`~identity.application.security.SigningKeys` fixed by configuration.

    ``active_pem`` is the signing key (PKCS#8 PEM). ``previous_pems`` holds zero or
    more PEM blocks (public or private keys) still published for verification:
    to rotate, generate a new key, move the old one to ``previous_pems``, redeploy,
    and drop it from there once the overlap has passed.
    """

    def __init__(self, active_pem: str, previous_pems: str = "") -> None:
        self._active = load_private_pem(active_pem)
        self._active_kid = thumbprint(self._active.public_key())
        self._previous: list[Ed25519PublicKey] = [
            key for key in load_public_pems(previous_pems) if thumbprint(key) != self._active_kid
        ]
        public = [self._active.public_key(), *self._previous]
        self._jwks = {"keys": [public_jwk(key, thumbprint(key)) for key in public]}

    def current_kid(self) -> str:
        return self._active_kid

    def active_key(self) -> ActiveKey:
        return ActiveKey(kid=self._active_kid, private_key=self._active)

    def jwks(self) -> dict[str, Any]:
        return self._jwks

    def rotate(self, *, overlap: timedelta, now: datetime) -> str:
        raise SigningKeysError(
            "the signing key comes from configuration: rotate it by changing IDENTITY_SIGNING_KEY_PEM "
            "(keep the old one in IDENTITY_PREVIOUS_SIGNING_KEYS_PEM for the overlap)"
        )

    def retire_expired(self, *, now: datetime) -> list[str]:
        return []  # previous keys are published for as long as the configuration lists them


def open_signing_keys(
    *, directory: Path, pem: str | None = None, previous_pems: str = "", clock: Clock | None = None
) -> FileSigningKeys | ConfiguredSigningKeys:
    """The key ring the settings ask for: from configuration if a PEM is given, else from ``directory``."""
    if pem and pem.strip():
        return ConfiguredSigningKeys(pem, previous_pems)
    return FileSigningKeys(directory, clock=clock)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    """What :func:`rotate_keys` did, for the CLI to print."""

    new_kid: str
    previous_kid: str
    retired: list[str]
    published: list[str]


def rotate_keys(directory: Path, overlap_seconds: float, *, clock: Clock | None = None) -> Rotation:
    """The ``rotate-keys`` command: retire what is due, then rotate with the given overlap.

    Running API workers notice the new key on their next signature or JWKS request.
    """
    clock = clock or SystemClock()
    keys = FileSigningKeys(directory, clock=clock)
    now = clock.now()
    retired = keys.retire_expired(now=now)
    previous_kid = keys.current_kid()
    new_kid = keys.rotate(overlap=timedelta(seconds=overlap_seconds), now=now)
    published = [key["kid"] for key in keys.jwks()["keys"]]
    return Rotation(new_kid=new_kid, previous_kid=previous_kid, retired=retired, published=published)


def _new_key(now: datetime) -> _StoredKey:
    private = Ed25519PrivateKey.generate()
    kid = thumbprint(private.public_key())
    return _StoredKey(kid=kid, created_at=now, status="active", retire_after=None, private_key=private)


def _key_to_json(key: _StoredKey) -> dict[str, Any]:
    pem = key.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    return {
        "kid": key.kid,
        "status": key.status,
        "created_at": key.created_at.isoformat(),
        "retire_after": key.retire_after.isoformat() if key.retire_after else None,
        "private_key_pem": pem,
    }


def _key_from_json(entry: dict[str, Any]) -> _StoredKey:
    private = load_private_pem(entry["private_key_pem"])
    kid = thumbprint(private.public_key())
    retire_after = entry["retire_after"]
    if entry["kid"] != kid:
        raise ValueError("key entry does not match its key")
    if (entry["status"], retire_after is None) not in (("active", True), ("previous", False)):
        raise ValueError("key entry has an inconsistent status")
    return _StoredKey(
        kid=kid,
        created_at=datetime.fromisoformat(entry["created_at"]),
        status=entry["status"],
        retire_after=datetime.fromisoformat(retire_after) if retire_after else None,
        private_key=private,
    )


def _stamp(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
