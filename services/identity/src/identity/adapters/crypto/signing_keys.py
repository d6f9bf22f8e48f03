"""Ed25519 signing keys: a rotatable key ring kept in a directory, or fixed by configuration.

:class:`FileSigningKeys` keeps every key in one JSON file (mode 0600) in the state
directory, written atomically (temporary file, fsync, rename) under an exclusive
``fcntl`` lock, so two processes starting at once agree on one first key and a
rotation by the CLI is picked up by running API workers within ``RECHECK_S`` (at once
for signing, and for a token whose key they do not know yet). A rotation
may publish the new key ahead of its first signature; the switch then happens by the
clock, with nothing writing the file at that moment.
:class:`ConfiguredSigningKeys` takes the key from configuration instead (a PEM in an
environment variable, for containers), where rotation means changing that variable.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from identity.adapters.crypto.jwk import load_private_pem, load_public_pems, public_jwk, thumbprint
from identity.adapters.crypto.key_ring import AT_ONCE, KeyRing, SigningKeysError, new_key
from shared.kernel.clock import Clock, SystemClock

__all__ = [
    "KEYS_FILE",
    "ActiveKey",
    "ActiveKeySource",
    "ConfiguredSigningKeys",
    "FileSigningKeys",
    "SigningKeysError",
    "open_signing_keys",
]

KEYS_FILE: Final = "signing-keys.json"
_LOCK_FILE: Final = ".lock"
RECHECK_S: Final = 1.0
"""How stale ``jwks()`` may be about the file (token verification reads it on every request,
and a ``stat()`` per request costs; a token of a key not seen yet makes its reader re-check
at once, see :meth:`FileSigningKeys.recheck`)."""

_log = structlog.get_logger("identity.keys")


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveKey:
    """The key that signs now, for the token issuer."""

    kid: str
    private_key: Ed25519PrivateKey = field(repr=False)


class ActiveKeySource(Protocol):
    """Where the token issuer gets the current signing key (adapter-level: it holds private material)."""

    def active_key(self) -> ActiveKey: ...


class FileSigningKeys:
    """:class:`~identity.application.security.SigningKeys` kept in ``directory``.

    Opening an empty (or missing) directory generates the first key. Every read looks
    at the ring as it stands by the clock: a next key signs from its activation time
    on, though the file still calls it next until a rotation or :meth:`retire_expired`
    writes it; ``jwks()`` leaves out previous keys whose overlap has passed even before
    :meth:`retire_expired` removes them, so a forgotten clean-up never extends a key's
    life. ``jwks()`` answers the same document object until the file changes, a key
    activates or a key's overlap ends (token verification asks for it on every request).

    What the clock decides is seen at once. Another process's change to the file is seen
    at once by :meth:`current_kid` and :meth:`active_key` (they sign), and by ``jwks()``
    within ``RECHECK_S`` of ``monotonic`` time, or at once after :meth:`recheck`. That
    delay cannot keep a retired key verifying: another process's rotation adds keys, and
    drops only a next key that never signed; its clean-up drops only keys the clock retired.
    """

    def __init__(
        self,
        directory: Path,
        *,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._path = directory / KEYS_FILE
        self._clock = clock or SystemClock()
        self._monotonic = monotonic
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._locked():
            if not self._path.exists():
                ring = KeyRing.first(self._clock.now())
                self._write(ring)
                _log.info("signing key generated", kid=ring.active().kid, path=str(self._path))
        self._ring, self._stamp = self._read()
        self._checked_at = monotonic()
        # (ring, valid until, document): the last jwks() answer, while it stays true.
        self._jwks: tuple[KeyRing, datetime | None, dict[str, Any]] | None = None

    def current_kid(self) -> str:
        return self._current(recheck=True).at(self._clock.now()).active().kid

    def active_key(self) -> ActiveKey:
        key = self._current(recheck=True).at(self._clock.now()).active()
        return ActiveKey(kid=key.kid, private_key=key.private_key)

    def jwks(self) -> dict[str, Any]:
        stored, now = self._current(recheck=False), self._clock.now()
        if self._jwks is not None:
            last_stored, valid_until, document = self._jwks
            if last_stored is stored and (valid_until is None or now < valid_until):
                return document
        ring = stored.at(now)
        document = {"keys": [public_jwk(k.private_key.public_key(), k.kid) for k in ring.published(now)]}
        self._jwks = (stored, ring.next_change(now), document)
        return document

    def rotate(self, *, overlap: timedelta, now: datetime, publish_ahead: timedelta = AT_ONCE) -> str:
        if overlap < AT_ONCE or publish_ahead < AT_ONCE:
            raise ValueError("neither the overlap nor the publish-ahead time can be negative")
        key = new_key(now)
        with self._locked():
            stored, _ = self._read()  # the file, not our copy: another process may have rotated
            pending = stored.at(now).pending()
            self._write(stored.rotated(key, overlap=overlap, now=now, publish_ahead=publish_ahead))
        self._ring, self._stamp = self._read()
        _log.info(
            "signing key rotated",
            kid=key.kid,
            activates_at=(now + publish_ahead).isoformat(),
            overlap_s=overlap.total_seconds(),
            replaced_pending=pending.kid if pending else None,
        )
        return key.kid

    def retire_expired(self, *, now: datetime) -> list[str]:
        with self._locked():
            stored, _ = self._read()
            ring, retired = stored.at(now).without_expired(now)
            if ring is not stored:  # also when only a next key became active: the file says so now
                self._write(ring)
        self._ring, self._stamp = self._read()
        if retired:
            _log.info("signing keys retired", kids=retired)
        return retired

    def recheck(self) -> bool:
        """Looks at the file now (for a key id not known yet); True if it had changed."""
        before = self._ring
        return self._current(recheck=True) is not before

    def _current(self, *, recheck: bool) -> KeyRing:
        checked = self._monotonic()
        if not recheck and checked - self._checked_at < RECHECK_S:
            return self._ring
        self._checked_at = checked
        try:
            stamp = _stamp(self._path.stat())
        except FileNotFoundError:
            _log.error("signing key file vanished; keeping the keys in memory", path=str(self._path))
            return self._ring
        if stamp != self._stamp:
            self._ring, self._stamp = self._read()
        return self._ring

    def _read(self) -> tuple[KeyRing, tuple[int, ...]]:
        with self._path.open("rb") as file:
            info = os.fstat(file.fileno())
            if info.st_mode & 0o077:
                _log.warning("signing key file was readable by others; restricting it", path=str(self._path))
                os.fchmod(file.fileno(), 0o600)
            return KeyRing.from_json(file.read(), self._path), _stamp(info)

    def _write(self, ring: KeyRing) -> None:
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

    def rotate(self, *, overlap: timedelta, now: datetime, publish_ahead: timedelta = AT_ONCE) -> str:
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


def _stamp(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
