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
:class:`KeyUnreadable`, never answered with anything but an error. The AES-GCM primitives, the
key files and the sealed format are shared (``shared.crypto``): chat unseals with them.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

from orchestrator.application.ports.ai_models import KeyUnreadable, ProtectedKey
from orchestrator.domain.ai_models import SealedKey, StoredKey, mask_api_key
from shared.crypto.key_file import KeyFile
from shared.crypto.sealing import Unreadable, decrypt, encrypt, seal_api_key, unseal_api_key

_AT_REST: Final = b"aiorch.ai_model.api_key\x00"


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
        return StoredKey(key_id=key_id, ciphertext=encrypt(key, plaintext, _AT_REST + model_id.bytes))

    def reveal(self, stored: StoredKey, model_id: UUID) -> str:
        """The plaintext key, for the one call that sends it to its provider (the model catalog)."""
        key = self.model_keys.key(stored.key_id)
        if key is None:
            raise KeyUnreadable(
                f"the stored API key names model key {stored.key_id!r}, which the key file lacks"
            )
        try:
            return decrypt(key, stored.ciphertext, _AT_REST + model_id.bytes, "the stored API key")
        except Unreadable as error:
            raise KeyUnreadable(str(error)) from None

    def rotate(self) -> str:
        return self.model_keys.rotate()

    def reencrypt(self, stored: StoredKey, model_id: UUID) -> StoredKey:
        if stored.key_id == self.model_keys.current[0]:
            self.reveal(stored, model_id)  # still proves it decrypts
            return stored
        return self.encrypt(self.reveal(stored, model_id), model_id)

    def _seal(self, plaintext: str, model_id: UUID) -> SealedKey:
        return SealedKey(seal_api_key(plaintext, model_id, self._seal_keys))


def unseal(sealed: str, model_id: UUID, seal_keys: KeyFile) -> str:
    """``shared.crypto.sealing.unseal_api_key``, refusing with this service's :class:`KeyUnreadable`."""
    try:
        return unseal_api_key(sealed, model_id, seal_keys)
    except Unreadable as error:
        raise KeyUnreadable(str(error)) from None
