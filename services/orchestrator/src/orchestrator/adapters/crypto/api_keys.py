"""AI-model API keys under AES-256-GCM (``cryptography``): encrypted at rest, sealed for replicas.

Two rings, two purposes:
* the **model keys** (``ORCHESTRATOR_MODEL_KEYS_FILE``) encrypt a key in the database;
  only orchestrator holds them, and ``rotate-model-keys`` re-encrypts under a new one;
* the **seal key** (``AIORCH_MODEL_SEAL_KEY_FILE``) seals a key for the events, so a
  service that calls models (chat) keeps a replica of the registry without asking
  orchestrator; the broker and every other consumer see only ciphertext.

Each value names the key that encrypted it, and its associated data is the model's id
(with the purpose), so a value copied to another row, or a stored value passed off as a
sealed one, fails to decrypt. A wrong key id or a flipped bit is refused with
:class:`KeyUnreadable`, never answered with anything but an error.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Final
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from orchestrator.adapters.crypto.key_file import KeyFile
from orchestrator.application.ports.ai_models import KeyUnreadable, ProtectedKey
from orchestrator.domain.ai_models import SealedKey, StoredKey, mask_api_key

NONCE_BYTES: Final = 12
SEALED_VERSION: Final = "v1"
_AT_REST: Final = b"aiorch.ai_model.api_key\x00"
_SEALED: Final = b"aiorch.ai_model.sealed_api_key\x00"


def _encrypt(key: bytes, plaintext: str, associated: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), associated)


def _decrypt(key: bytes, blob: bytes, associated: bytes, what: str) -> str:
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated).decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise KeyUnreadable(f"{what} fails authentication: altered, or not this model's") from None


class AesGcmApiKeyVault:
    """:class:`~orchestrator.application.ports.ai_models.ApiKeyVault` over two key files."""

    def __init__(self, model_keys: KeyFile, seal_keys: KeyFile) -> None:
        self.model_keys = model_keys
        self._seal_keys = seal_keys

    def protect(self, plaintext: str, model_id: UUID) -> ProtectedKey:
        stored = self.encrypt(plaintext, model_id)
        return ProtectedKey(
            stored=stored, sealed=self._seal(plaintext, model_id), hint=mask_api_key(plaintext)
        )

    def seal(self, stored: StoredKey, model_id: UUID) -> SealedKey:
        return self._seal(self.reveal(stored, model_id), model_id)

    def encrypt(self, plaintext: str, model_id: UUID) -> StoredKey:
        key_id, key = self.model_keys.current
        return StoredKey(key_id=key_id, ciphertext=_encrypt(key, plaintext, _AT_REST + model_id.bytes))

    def reveal(self, stored: StoredKey, model_id: UUID) -> str:
        """The plaintext key, for the one call that sends it to its provider (the model catalog)."""
        key = self.model_keys.key(stored.key_id)
        if key is None:
            raise KeyUnreadable(
                f"the stored API key names model key {stored.key_id!r}, which the key file lacks"
            )
        return _decrypt(key, stored.ciphertext, _AT_REST + model_id.bytes, "the stored API key")

    def rotate(self) -> str:
        return self.model_keys.rotate()

    def reencrypt(self, stored: StoredKey, model_id: UUID) -> StoredKey:
        if stored.key_id == self.model_keys.current[0]:
            self.reveal(stored, model_id)  # still proves it decrypts
            return stored
        return self.encrypt(self.reveal(stored, model_id), model_id)

    def _seal(self, plaintext: str, model_id: UUID) -> SealedKey:
        key_id, key = self._seal_keys.current
        blob = base64.urlsafe_b64encode(_encrypt(key, plaintext, _SEALED + model_id.bytes)).decode("ascii")
        return SealedKey(f"{SEALED_VERSION}:{key_id}:{blob}")


def unseal(sealed: str, model_id: UUID, seal_keys: KeyFile) -> str:
    """The key a sealed value holds: what a replica (chat) does with an event's ``sealed_api_key``."""
    version, _, rest = sealed.partition(":")
    key_id, _, blob = rest.partition(":")
    if version != SEALED_VERSION or not key_id or not blob:
        raise KeyUnreadable("not a sealed API key")
    key = seal_keys.key(key_id)
    if key is None:
        raise KeyUnreadable(f"the sealed API key names seal key {key_id!r}, which the seal key file lacks")
    try:
        raw = base64.urlsafe_b64decode(blob)
    except (binascii.Error, ValueError):
        raise KeyUnreadable("the sealed API key is not base64") from None
    return _decrypt(key, raw, _SEALED + model_id.bytes, "the sealed API key")
