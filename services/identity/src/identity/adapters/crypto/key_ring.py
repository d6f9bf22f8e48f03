"""The signing key ring as stored: its keys, their statuses, and how it reads at a given time.

A key is *next* (published, not signing yet), *active* (signs) or *previous* (published
until ``retire_after``). :meth:`KeyRing.at` derives the ring at a time, so a next key takes
over by the clock alone. Pure data and JSON: :mod:`identity.adapters.crypto.signing_keys` does the
file, its lock and its caching.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from identity.adapters.crypto.jwk import load_private_pem, thumbprint
from identity.application.ports import KeyStoreError

_FORMAT: Final = 1
AT_ONCE: Final = timedelta(0)

Status = Literal["next", "active", "previous"]


class SigningKeysError(KeyStoreError):
    """The key store is unreadable, inconsistent, or cannot do what was asked."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredKey:
    kid: str
    created_at: datetime
    status: Status
    retire_after: datetime | None = None  # previous: when it leaves the JWKS
    activate_after: datetime | None = None  # next: when it starts signing
    # next: how long the key it takes over from stays published, counted from activate_after.
    overlap: timedelta = AT_ONCE
    private_key: Ed25519PrivateKey = field(repr=False)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The keys as stored; :meth:`at` gives the ring as it stands at a given time."""

    keys: tuple[StoredKey, ...]

    @classmethod
    def first(cls, now: datetime) -> KeyRing:
        return cls((new_key(now),))

    def active(self) -> StoredKey:
        return next(key for key in self.keys if key.status == "active")

    def pending(self) -> StoredKey | None:
        return next((key for key in self.keys if key.status == "next"), None)

    def at(self, now: datetime) -> KeyRing:
        """The ring at ``now``: once the next key's time has come it signs, and the key it takes
        over from is previous for the overlap. Derived, so no process has to write the file then."""
        pending = self.pending()
        if pending is None or pending.activate_after is None or pending.activate_after > now:
            return self
        promoted = replace(pending, status="active", activate_after=None, overlap=AT_ONCE)
        demoted = replace(
            self.active(), status="previous", retire_after=pending.activate_after + pending.overlap
        )
        return KeyRing(
            tuple(promoted if k is pending else demoted if k.status == "active" else k for k in self.keys)
        )

    def published(self, now: datetime) -> list[StoredKey]:
        """Of the ring at ``now``: the active key, the next one, then previous keys not yet retired."""
        pending = self.pending()
        previous = [k for k in self.keys if k.retire_after is not None and k.retire_after > now]
        return [
            self.active(),
            *([pending] if pending else []),
            *sorted(previous, key=lambda k: k.created_at, reverse=True),
        ]

    def next_change(self, now: datetime) -> datetime | None:
        """When the signing key or the published set next changes by the clock alone (None: never)."""
        times = [t for k in self.keys for t in (k.retire_after, k.activate_after) if t is not None]
        return min((t for t in times if t > now), default=None)

    def rotated(
        self, key: StoredKey, *, overlap: timedelta, now: datetime, publish_ahead: timedelta
    ) -> KeyRing:
        """``key`` signs from ``now + publish_ahead``; a pending next key, which never signed, is dropped."""
        settled = self.at(now)
        scheduled = replace(key, status="next", activate_after=now + publish_ahead, overlap=overlap)
        return KeyRing((scheduled, *(k for k in settled.keys if k.status != "next"))).at(now)

    def without_expired(self, now: datetime) -> tuple[KeyRing, list[str]]:
        expired = [k.kid for k in self.keys if k.retire_after is not None and k.retire_after <= now]
        if not expired:
            return self, []
        return KeyRing(tuple(k for k in self.keys if k.kid not in expired)), expired

    def to_json(self) -> bytes:
        document = {"format": _FORMAT, "keys": [_key_to_json(k) for k in self.keys]}
        return json.dumps(document, indent=2).encode()

    @classmethod
    def from_json(cls, data: bytes, source: Path) -> KeyRing:
        try:
            document = json.loads(data)
            keys = tuple(_key_from_json(entry) for entry in document["keys"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SigningKeysError(f"{source} is not a readable key file: {type(exc).__name__}") from None
        if sum(k.status == "active" for k in keys) != 1:
            raise SigningKeysError(f"{source} must hold exactly one active key")
        if sum(k.status == "next" for k in keys) > 1:
            raise SigningKeysError(f"{source} must hold at most one next key")
        return cls(keys)


def new_key(now: datetime) -> StoredKey:
    private = Ed25519PrivateKey.generate()
    kid = thumbprint(private.public_key())
    return StoredKey(kid=kid, created_at=now, status="active", private_key=private)


def _key_to_json(key: StoredKey) -> dict[str, Any]:
    pem = key.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    entry: dict[str, Any] = {
        "kid": key.kid,
        "status": key.status,
        "created_at": key.created_at.isoformat(),
        "retire_after": key.retire_after.isoformat() if key.retire_after else None,
    }
    if key.activate_after is not None:  # only next keys: other entries keep the first format
        entry |= {"activate_after": key.activate_after.isoformat(), "overlap_s": key.overlap.total_seconds()}
    return entry | {"private_key_pem": pem}


# The fields each status has and has not: retire_after, activate_after, overlap_s.
_SHAPES: Final = {
    "active": (False, False, False),
    "previous": (True, False, False),
    "next": (False, True, True),
}


def _key_from_json(entry: dict[str, Any]) -> StoredKey:
    private = load_private_pem(entry["private_key_pem"])
    kid = thumbprint(private.public_key())
    retire_after, activate_after = entry["retire_after"], entry.get("activate_after")
    overlap_s = entry.get("overlap_s")
    if entry["kid"] != kid:
        raise ValueError("key entry does not match its key")
    if _SHAPES.get(entry["status"]) != (
        retire_after is not None,
        activate_after is not None,
        overlap_s is not None,
    ):
        raise ValueError("key entry has an inconsistent status")
    overlap = timedelta(seconds=overlap_s or 0)
    if overlap < AT_ONCE:
        raise ValueError("key entry has a negative overlap")
    return StoredKey(
        kid=kid,
        created_at=datetime.fromisoformat(entry["created_at"]),
        status=entry["status"],
        retire_after=datetime.fromisoformat(retire_after) if retire_after else None,
        activate_after=datetime.fromisoformat(activate_after) if activate_after else None,
        overlap=overlap,
        private_key=private,
    )
