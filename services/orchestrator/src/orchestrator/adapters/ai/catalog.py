"""The model catalog: which registered model answers a request, ready to call.

``resolve(id)`` is that model if it is enabled; ``resolve()`` the model the setting
``default_model_id`` names (if enabled), else the registry's default, else the built-in
offline model. The API key is decrypted here, at call time, and only handed to the
adapter that sends it (``shared.ai``); it is never cached, logged or returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final
from uuid import UUID

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from orchestrator.adapters.ai.models import model_config
from orchestrator.adapters.crypto.api_keys import AesGcmApiKeyVault
from orchestrator.adapters.postgres.ai_models import ai_model_from_row
from orchestrator.adapters.postgres.tables import ai_models, system_settings
from orchestrator.application.ports.ai import ResolvedModel
from orchestrator.application.ports.ai_models import KeyUnreadable
from orchestrator.domain.ai_models import AIModel
from orchestrator.domain.settings import REGISTRY
from shared.ai.factory import build_model
from shared.ai.offline import OfflineModel
from shared.kernel.ai import ChatModel, ModelAuthenticationFailed, ModelRequestRejected, Timeouts
from shared.kernel.errors import NotFound

_BY_ID = sa.select(*ai_models.c).where(ai_models.c.enabled, ai_models.c.id == sa.bindparam("id"))
# The setting's model if it is enabled, else the registry's default: one round trip. A uuid
# setting is stored as a JSON string (#>> '{}' is its text).
_DEFAULT = sa.text(
    f"""
    SELECT m.*, m.id = (s.value #>> '{{}}')::uuid AS chosen
    FROM {ai_models.name} m LEFT JOIN {system_settings.name} s ON s.name = 'default_model_id'
    WHERE m.enabled AND (m.is_default OR m.id = (s.value #>> '{{}}')::uuid)
    ORDER BY chosen DESC NULLS LAST
    LIMIT 1
    """
).columns(*ai_models.c, sa.column("chosen", sa.Boolean))
TIMEOUT_SETTING: Final = "ai.request_timeout_s"
TOKENS_SETTING: Final = "ai.max_output_tokens"
_LIMITS = sa.select(system_settings.c.name, system_settings.c.value).where(
    system_settings.c.name.in_([TIMEOUT_SETTING, TOKENS_SETTING])
)
BUILT_IN: Final = "offline"


class RegistryModelCatalog:
    """:class:`~orchestrator.application.ports.ModelCatalog` and ``ModelConnector`` over the registry.

    Not transactional: each resolve reads on a connection of its own, outside any unit of work.
    """

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        vault: AesGcmApiKeyVault,
        http: httpx.AsyncClient,
        offline_writers: Mapping[str, Any],
        offline_pace_s: float = 0.0,
        timeouts: Timeouts | None = None,
    ) -> None:
        self._engine = engine
        self._vault = vault
        self._http = http
        self._timeouts = timeouts or Timeouts()
        self._writers, self._pace_s = offline_writers, offline_pace_s
        self._offline = OfflineModel(pace_s=offline_pace_s, writers=offline_writers)

    async def resolve(self, model_id: UUID | None = None) -> ResolvedModel:
        async with self._engine.connect() as conn:
            if model_id is not None:
                row = (await conn.execute(_BY_ID, {"id": model_id})).first()
                if row is None:
                    raise NotFound(f"AI model {model_id} not found, or not enabled")
            else:
                row = (await conn.execute(_DEFAULT)).first()
            if row is None:
                return ResolvedModel(id=None, name=BUILT_IN, provider=BUILT_IN, model=self._offline)
            limits = {r.name: r.value for r in await conn.execute(_LIMITS)}
        model = ai_model_from_row(row._mapping)
        timeout_s, most_tokens = (_limit(limits, name) for name in (TIMEOUT_SETTING, TOKENS_SETTING))
        try:
            chat = self.connect(model, total_s=timeout_s, max_tokens=int(most_tokens))
        except KeyUnreadable:
            # the use case sees a model failure (a 502), not a conflict of its own request
            raise ModelAuthenticationFailed(
                f"model {model.name}: its stored API key cannot be decrypted; an admin must set it again"
            ) from None
        return ResolvedModel(id=model.id, name=model.model, provider=model.provider, model=chat)

    def connect(
        self, model: AIModel, *, total_s: float | None = None, max_tokens: int | None = None
    ) -> ChatModel:
        """``model`` callable, its key decrypted now; ``total_s`` and ``max_tokens`` are the
        settings' limits (``ai.request_timeout_s``, ``ai.max_output_tokens``) when given."""
        api_key = self._vault.reveal(model.api_key, model.id) if model.api_key else None
        timeouts = self._timeouts
        if total_s is not None:
            first_token_s = min(timeouts.first_token_s, total_s)
            timeouts = replace(timeouts, total_s=total_s, first_token_s=first_token_s)
        config = model_config(model, api_key=api_key, timeouts=timeouts, max_tokens=max_tokens)
        try:
            return build_model(
                config, http=self._http, offline_writers=self._writers, offline_pace_s=self._pace_s
            )
        except ValueError as exc:  # a provider this build does not know
            raise ModelRequestRejected(str(exc)) from None

    def __repr__(self) -> str:
        return "RegistryModelCatalog()"


def _limit(values: Mapping[str, Any], name: str) -> float:
    """A numeric setting: its stored value (validated when set), else its default."""
    value = values.get(name, REGISTRY[name].default)
    return float(value) if isinstance(value, int | float) else float(str(REGISTRY[name].default))
