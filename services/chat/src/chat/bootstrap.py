"""chat's composition root: the only module that knows every concrete class.

It names chat's pieces; ``shared.bootstrap.ServiceRoot`` composes them as it does for
every service (the app and its lifespan, the worker, migrations). Nothing
connects at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncEngine

import chat
from chat import SERVICE, __version__
from chat.adapters.messaging.translators import to_contract
from chat.adapters.postgres.search import AsyncpgSearchIndex
from chat.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from chat.application.erasure import erase_users_data
from chat.entrypoints.consumers.ownership import ownership
from chat.entrypoints.http import route_handlers
from chat.entrypoints.http.search import SEARCH_INDEX, search_dependencies
from chat.settings import Settings
from shared.bootstrap import ServiceRoot
from shared.db.migrations import migrations_of
from shared.db.pool import open_read_pool
from shared.erasure.consumer import user_erasure


@asynccontextmanager
async def api_resources(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Mapping[str, Any]]:
    """The API process's long-lived resources: the raw read pool (one-statement reads, no
    transaction, no reset) and the search index on it."""
    # nothing connects here: the pool opens connections as reads come
    read_pool = await open_read_pool(
        settings.database_url,
        schema=settings.db_schema,
        application_name=f"{SERVICE}-api-reads",
        size=settings.db_pool_size,
    )
    async with read_pool:
        yield {SEARCH_INDEX: AsyncpgSearchIndex(read_pool)}


def all_dependencies() -> Mapping[str, Provide]:
    return {**search_dependencies()}


ROOT = ServiceRoot(
    service=SERVICE,
    version=__version__,
    description="Conversations, messages and streamed assistant replies.",
    settings=Settings,
    migrations=migrations_of(chat),
    unit_of_work=SqlAlchemyUnitOfWork,
    translate=to_contract,
    route_handlers=route_handlers,
    # identity.user.deleted → the shared erasure with chat's own rule;
    # orchestrator.project.* / orchestrator.task.* → the ownership replica
    consumers=[
        user_erasure(SERVICE, erase_users_data),
        ownership,
    ],
    dependencies=all_dependencies,
    resources=api_resources,
    app_factory=f"{__name__}:ROOT.create_app_from_env",
)
