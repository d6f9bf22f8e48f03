"""The model catalog: which model of chat's registry replica answers a request, ready to call.

``resolve(id)`` is that model while it is enabled (else ``ModelNotAvailable``, 422);
``resolve()`` the model the setting ``default_model_id`` names (if enabled), else the
registry's default, else the built-in offline model. The replicas are read in one short
transaction and what was read is reused for ``cache_s``; the API key stays sealed in that
cache and is unsealed at each resolve, handed only to the adapter that sends it
(``shared.ai``): never cached in plaintext, logged or returned.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from uuid import UUID

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from chat.adapters.postgres.model_replicas import DEFAULT, ENABLED_BY_ID, model_from_row
from chat.adapters.postgres.setting_replicas import LIMITS
from chat.application.ports.replicas import ModelNotAvailable, ModelReplica, ModelSenses, ResolvedModel
from chat.domain.limits import ChatLimits, limits_from
from shared.ai.factory import ModelConfig, build_model, build_transcriber
from shared.ai.offline import AnswerWriter, OfflineModel
from shared.crypto.key_file import KeyFile
from shared.crypto.sealing import Unreadable, unseal_api_key
from shared.kernel.ai import (
    ModelAuthenticationFailed,
    ModelRequestRejected,
    Parameters,
    Timeouts,
    Transcriber,
)

BUILT_IN: Final = "offline"

_Snapshot = tuple[float, ChatLimits, ModelReplica | None]


ReadReplicas = Callable[[UUID | None], Awaitable[tuple[ChatLimits, ModelReplica | None]]]
"""The limits in force and the model that answers for a requested id (``None``: the default
one): the enabled model, else ``None``."""


def reading(engine: AsyncEngine) -> ReadReplicas:
    """Reads the settings and model replicas in one short transaction of their own."""

    async def read(model_id: UUID | None) -> tuple[ChatLimits, ModelReplica | None]:
        async with engine.connect() as conn:
            limits = limits_from({row.name: row.value for row in await conn.execute(LIMITS)})
            if model_id is not None:
                row = (await conn.execute(ENABLED_BY_ID, {"id": model_id})).first()
            else:
                row = (await conn.execute(DEFAULT, {"chosen_id": limits.default_model_id})).first()
        return limits, None if row is None else model_from_row(row._mapping)

    return read


class ReplicaModelCatalog:
    """:class:`~chat.application.ports.replicas.ModelCatalog` over the registry and settings replicas.

    Not transactional: ``read`` (:func:`reading`) runs on a connection of its own, outside any
    unit of work.
    """

    def __init__(
        self,
        *,
        read: ReadReplicas,
        seal_keys: KeyFile,
        http: httpx.AsyncClient,
        offline_pace_s: float = 0.0,
        offline_writers: Mapping[str, AnswerWriter] = MappingProxyType({}),
        offline_min_tokens: int = 0,
        cache_s: float = 1.0,
        timeouts: Timeouts | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read_replicas = read
        self._seal_keys = seal_keys
        self._http = http
        self._pace_s = offline_pace_s
        self._writers = offline_writers
        self._cache_s = cache_s
        self._timeouts = timeouts or Timeouts()
        self._clock = clock
        self._read: dict[UUID | None, _Snapshot] = {}
        self._offline = OfflineModel(
            pace_s=offline_pace_s, writers=offline_writers, name=BUILT_IN, min_prose_tokens=offline_min_tokens
        )

    async def resolve(self, model_id: UUID | None = None) -> ResolvedModel:
        limits, model = await self._snapshot(model_id)
        timeouts = replace(
            self._timeouts,
            total_s=float(limits.request_timeout_s),
            first_token_s=min(self._timeouts.first_token_s, float(limits.request_timeout_s)),
        )
        if model is None:
            if model_id is not None:
                raise ModelNotAvailable(model_id)
            parameters = Parameters(max_tokens=limits.max_output_tokens)
            return ResolvedModel(
                id=None, name=BUILT_IN, model=self._offline, parameters=parameters, timeouts=timeouts
            )
        parameters = default_parameters(model.parameters, max_tokens=limits.max_output_tokens)
        config = ModelConfig(
            provider=model.provider,  # type: ignore[arg-type]  # build_model refuses one it does not know
            model=model.model,
            base_url=model.base_url,
            api_key=self._unsealed(model),
            parameters=parameters,
            timeouts=timeouts,
            name=model.name,
        )
        try:
            chat = build_model(
                config, http=self._http, offline_pace_s=self._pace_s, offline_writers=self._writers
            )
        except ValueError as exc:  # a provider this build does not know, a local one without a URL
            raise ModelRequestRejected(f"model {model.name}: {exc}") from None
        return ResolvedModel(
            id=model.id,
            name=model.model,
            model=chat,
            parameters=parameters,
            timeouts=timeouts,
            senses=ModelSenses.of(model.parameters),
            transcriber=self._transcriber(config, model.parameters.get("transcription_model")),
        )

    def _transcriber(self, config: ModelConfig, transcription_model: object) -> Transcriber | None:
        if not isinstance(transcription_model, str) or not transcription_model.strip():
            return None
        return build_transcriber(config, transcription_model.strip(), http=self._http)

    async def _snapshot(self, model_id: UUID | None) -> tuple[ChatLimits, ModelReplica | None]:
        now = self._clock()
        cached = self._read.get(model_id)
        if cached is not None and now - cached[0] < self._cache_s:
            return cached[1], cached[2]
        limits, model = await self._read_replicas(model_id)
        # a miss for a requested id is not kept: ids that name nothing would grow the cache without bound
        if self._cache_s > 0 and (model is not None or model_id is None):
            self._read[model_id] = (now, limits, model)
        return limits, model

    def _unsealed(self, model: ModelReplica) -> str | None:
        if model.sealed_api_key is None:
            return None
        try:
            return unseal_api_key(model.sealed_api_key, model.id, self._seal_keys)
        except Unreadable as exc:
            # the request meets a model failure (502), not a fault of its own
            raise ModelAuthenticationFailed(
                f"model {model.name}: its API key cannot be unsealed here ({exc}); "
                "the seal key files of orchestrator and chat must be the same"
            ) from None

    def __repr__(self) -> str:
        return "ReplicaModelCatalog()"


def default_parameters(parameters: Mapping[str, Any], *, max_tokens: int) -> Parameters:
    """The entry's ``parameters`` (validated by orchestrator when set) as the adapter's defaults;
    ``max_tokens`` (``ai.max_output_tokens``) caps the entry's own. A value of an unexpected type
    is left out rather than sent."""

    def number(name: str) -> float | None:
        value = parameters.get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    own = parameters.get("max_tokens")
    own_tokens = own if isinstance(own, int) and not isinstance(own, bool) and own > 0 else None
    stop = parameters.get("stop")
    seed = parameters.get("seed")
    return Parameters(
        temperature=number("temperature"),
        top_p=number("top_p"),
        max_tokens=max_tokens if own_tokens is None else min(own_tokens, max_tokens),
        stop=tuple(s for s in stop if isinstance(s, str)) if isinstance(stop, list) else (),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
    )


def open_seal_keys(path: str) -> KeyFile:
    """The seal key ring (generated on first use where no file is yet, as orchestrator does)."""
    return KeyFile(Path(path))
