"""orchestrator's composition root: the only module that knows every concrete class.

It names orchestrator's pieces; ``shared.bootstrap.ServiceRoot`` composes them as it does for
every service (the app and its lifespan, the worker, migrations). Nothing
connects at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, Final

import httpx
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

import orchestrator
from orchestrator import SERVICE, __version__
from orchestrator.adapters.ai.catalog import RegistryModelCatalog
from orchestrator.adapters.ai.offline_answers import WRITERS
from orchestrator.adapters.ai.task_plans import MsgspecTaskPlanFormat
from orchestrator.adapters.crypto.api_keys import AesGcmApiKeyVault
from orchestrator.adapters.messaging.board_feed import NatsBoardEvents
from orchestrator.adapters.messaging.translators import to_contract
from orchestrator.adapters.postgres.board import AsyncpgBoardReader
from orchestrator.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.application.ai_models import register_local_model
from orchestrator.application.erasure import erase_users_data
from orchestrator.application.key_rotation import KeyRotation, rotate_model_keys
from orchestrator.application.ports.ai_models import KeyUnreadable
from orchestrator.application.ports.board import BoardEvents
from orchestrator.entrypoints.consumers.chat_sessions import chat_sessions
from orchestrator.entrypoints.http import route_handlers
from orchestrator.entrypoints.http.dependencies import MODELS, VAULT, dependencies
from orchestrator.settings import Settings
from shared.bootstrap import ServiceRoot
from shared.crypto.key_file import KeyFile, KeyFileError
from shared.db.migrations import migrations_of
from shared.db.pool import open_read_pool
from shared.erasure.consumer import user_erasure
from shared.messaging.outbox import OutboxWriter


def open_vault(settings: Settings) -> AesGcmApiKeyVault:
    """The API-key vault over the key files the settings name (each generated on first use)."""
    return AesGcmApiKeyVault(
        KeyFile(Path(settings.model_keys_file)), KeyFile(Path(settings.model_seal_key_file))
    )


@asynccontextmanager
async def api_resources(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Mapping[str, Any]]:
    """The key vault and the model catalog (one shared HTTP client to every provider), and the
    board's reader on a raw read pool; with a local model server configured, the registry's
    ``local`` model is brought up to date."""
    vault = open_vault(settings)
    # nothing connects here: the pool opens connections as reads come
    read_pool = await open_read_pool(
        settings.database_url,
        schema=settings.db_schema,
        application_name=f"{SERVICE}-api-reads",
        size=settings.db_read_pool_size,
    )
    async with read_pool, httpx.AsyncClient() as http:
        catalog = RegistryModelCatalog(
            engine=engine,
            vault=vault,
            http=http,
            offline_writers=WRITERS,
            offline_pace_s=settings.offline_pace_ms / 1000,
        )
        if settings.local_model_url:
            uow = SqlAlchemyUnitOfWork.from_engine(engine, OutboxWriter(ROOT.event_source), to_contract)
            # IntegrityError: another API process registered it at the same moment
            with suppress(IntegrityError):
                await register_local_model(
                    settings.local_model_url, settings.local_model_name, uow, vault=vault
                )
        yield {MODELS: catalog, VAULT: vault, _BOARD_READER: AsyncpgBoardReader(read_pool)}


def board_events_on(state: State) -> BoardEvents:
    """The live board's feed on the API process's NATS connection."""
    return NatsBoardEvents(state.nats)


_TASK_PLANS = MsgspecTaskPlanFormat()
_BOARD_READER = "orchestrator_board_reader"


def task_plans() -> MsgspecTaskPlanFormat:
    return _TASK_PLANS


def board_reader_on(state: State) -> AsyncpgBoardReader:
    """The board's read model, on the API process's read pool (``api_resources``)."""
    reader: AsyncpgBoardReader = state[_BOARD_READER]
    return reader


def all_dependencies() -> Mapping[str, Provide]:
    return {
        **dependencies(),
        "board": Provide(board_events_on, sync_to_thread=False),
        "task_plans": Provide(task_plans, sync_to_thread=False),
        "board_reader": Provide(board_reader_on, sync_to_thread=False),
    }


ROTATION_ERRORS: Final = (KeyFileError, KeyUnreadable, OSError)
"""What ``rotate-model-keys`` reports as a failure (a message, exit code 1), not a traceback."""


async def run_rotate_model_keys(settings: Settings) -> KeyRotation:
    """``rotate-model-keys``: a new current model key, every stored API key re-encrypted under it."""
    engine = ROOT.engine(settings, "cli")
    try:
        uow = SqlAlchemyUnitOfWork.from_engine(engine, OutboxWriter(ROOT.event_source), to_contract)
        return await rotate_model_keys(uow, keys=open_vault(settings))
    finally:
        await engine.dispose()


ROOT = ServiceRoot(
    service=SERVICE,
    version=__version__,
    description="Projects, requirement interviews, prompts, task boards, commits and AI models.",
    settings=Settings,
    migrations=migrations_of(orchestrator),
    unit_of_work=SqlAlchemyUnitOfWork,
    translate=to_contract,
    route_handlers=route_handlers,
    # identity.user.deleted → the shared erasure with orchestrator's own rule;
    # chat.conversation.* → the chat-session projection
    consumers=[user_erasure(SERVICE, erase_users_data), chat_sessions],
    dependencies=all_dependencies,
    resources=api_resources,
    app_factory=f"{__name__}:ROOT.create_app_from_env",
)
