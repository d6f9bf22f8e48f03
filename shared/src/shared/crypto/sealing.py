"""AES-256-GCM (``cryptography``) for short secrets such as AI-model API keys.

A value is ``nonce || ciphertext+tag``, bound to *associated data* that names its purpose and
its owner (a model's id): a value copied to another row, or one purpose's value passed off as
another's, fails authentication. A **sealed** API key travels in events as
``v1:<key id>:<base64>`` under the seal key ring (``AIORCH_MODEL_SEAL_KEY_FILE``), held only by
the services that call models: orchestrator seals, chat's registry replica unseals.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Final
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto.key_file import KeyFile

NONCE_BYTES: Final = 12
SEALED_VERSION: Final = "v1"
SEALED_API_KEY: Final = b"aiorch.ai_model.sealed_api_key\x00"
"""The purpose a sealed API key's associated data starts with (then the model id's bytes)."""


class Unreadable(ValueError):
    """The value fails authentication (altered, another row's or purpose's) or names no known key."""


def encrypt(key: bytes, plaintext: str, associated: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), associated)


def decrypt(key: bytes, blob: bytes, associated: bytes, what: str) -> str:
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated).decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise Unreadable(f"{what} fails authentication: altered, or not this model's") from None


def seal_api_key(plaintext: str, model_id: UUID, seal_keys: KeyFile) -> str:
    """``plaintext`` sealed under the seal ring's current key, for ``model_id`` only."""
    key_id, key = seal_keys.current
    blob = base64.urlsafe_b64encode(encrypt(key, plaintext, SEALED_API_KEY + model_id.bytes)).decode("ascii")
    return f"{SEALED_VERSION}:{key_id}:{blob}"


def unseal_api_key(sealed: str, model_id: UUID, seal_keys: KeyFile) -> str:
    """The key a sealed value holds: what a replica does with an event's ``sealed_api_key``.

    Raises:
        Unreadable: not a sealed key, a seal key the ring lacks, or a value that fails
            authentication (altered, or sealed for another model).
    """
    version, _, rest = sealed.partition(":")
    key_id, _, blob = rest.partition(":")
    if version != SEALED_VERSION or not key_id or not blob:
        raise Unreadable("not a sealed API key")
    key = seal_keys.key(key_id)
    if key is None:
        raise Unreadable(f"the sealed API key names seal key {key_id!r}, which the seal key file lacks")
    try:
        raw = base64.urlsafe_b64decode(blob)
    except (binascii.Error, ValueError):
        raise Unreadable("the sealed API key is not base64") from None
    return decrypt(key, raw, SEALED_API_KEY + model_id.bytes, "the sealed API key")
