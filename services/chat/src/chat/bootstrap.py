"""chat's composition root: the only module that knows every concrete class.

It names chat's pieces; ``shared.bootstrap.ServiceRoot`` composes them as it does for
every service (the app and its lifespan, the worker, migrations). Nothing
connects at import time.
"""

from __future__ import annotations

import chat
from chat import SERVICE, __version__
from chat.adapters.messaging.translators import to_contract
from chat.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from chat.application.erasure import erase_users_data
from chat.entrypoints.consumers.ownership import ownership
from chat.entrypoints.http import route_handlers
from chat.settings import Settings
from shared.bootstrap import ServiceRoot
from shared.db.migrations import migrations_of
from shared.erasure.consumer import user_erasure

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
    app_factory=f"{__name__}:ROOT.create_app_from_env",
)
