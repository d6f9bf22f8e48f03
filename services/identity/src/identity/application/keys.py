"""Use cases on the signing keys: what the world verifies with, and rotating them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from identity.application.ports import Clock, SigningKeys


@dataclass(frozen=True, slots=True, kw_only=True)
class RotateKeys:
    overlap: timedelta
    """How long the key signing until the new one takes over stays published after that."""
    publish_ahead: timedelta = timedelta(0)
    """How long the new key is published before it signs (0: it signs at once)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    """What a rotation did, for the operator."""

    new_kid: str
    previous_kid: str
    """The key that signs until ``activates_at``, then stays published for the overlap."""
    activates_at: datetime
    """When the new key starts signing."""
    retired: list[str]
    published: list[str]


def public_keys(*, keys: SigningKeys) -> dict[str, Any]:
    """The JWK Set verifiers fetch: the active key, the next one if any, the previous ones in
    their overlap (``SigningKeys.jwks``). Never any private key material."""
    return keys.jwks()


def rotate_keys(cmd: RotateKeys, *, keys: SigningKeys, clock: Clock) -> Rotation:
    """Retire what is due, then rotate: a new key that signs from ``now + publish_ahead``.

    Rules: ``publish_ahead`` must cover verifiers' JWKS cache time and ``overlap`` the
    access-token lifetime plus that cache time (``SigningKeys.rotate``); 0 for both is an
    emergency (a compromised key). Running API processes publish the new key on their next
    JWKS request and sign with it from its activation time on.
    """
    now = clock.now()
    retired = keys.retire_expired(now=now)
    previous_kid = keys.current_kid()
    new_kid = keys.rotate(overlap=cmd.overlap, now=now, publish_ahead=cmd.publish_ahead)
    return Rotation(
        new_kid=new_kid,
        previous_kid=previous_kid,
        activates_at=now + cmd.publish_ahead,
        retired=retired,
        published=[key["kid"] for key in keys.jwks()["keys"]],
    )
