"""Rotating the keys AI-model API keys are encrypted under at rest."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.ports.ai_models import KeyRing, KeyUnreadable


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRotation:
    key_id: str
    """The new current key."""
    reencrypted: int
    """API keys re-encrypted under it: every model's that has one."""


async def rotate_model_keys(uow: UnitOfWork, *, keys: KeyRing) -> KeyRotation:
    """Makes a new current key and re-encrypts every stored API key under it, in one transaction.

    The key file changes first: if the transaction then fails, every value stays under a key
    the file still holds, so nothing becomes unreadable. Announces nothing: the models and
    their sealed keys are unchanged for every other service.

    Raises:
        KeyUnreadable: a stored key cannot be decrypted (named); nothing is re-encrypted.
    """
    key_id = keys.rotate()
    async with uow:
        models = await uow.ai_models.with_keys(for_update=True)
        for model in models:
            assert model.api_key is not None  # with_keys answers only those
            try:
                model.api_key = keys.reencrypt(model.api_key, model.id)
            except KeyUnreadable as exc:
                raise KeyUnreadable(f"model {model.name} ({model.id}): {exc.detail}") from None
            await uow.ai_models.update(model)
        await uow.commit()
    return KeyRotation(key_id=key_id, reencrypted=len(models))
