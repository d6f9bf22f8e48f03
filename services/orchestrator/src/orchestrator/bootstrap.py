"""orchestrator's composition root: the only module that knows every concrete class.

It names orchestrator's pieces; ``shared.bootstrap.ServiceRoot`` composes them as it does for
every service (the app and its lifespan, the worker, migrations). Nothing
connects at import time.
"""

from __future__ import annotations

import orchestrator
from orchestrator import SERVICE, __version__
from orchestrator.adapters.messaging.translators import to_contract
from orchestrator.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.application.erasure import erase_users_data
from orchestrator.entrypoints.http import route_handlers
from orchestrator.entrypoints.http.dependencies import dependencies
from orchestrator.settings import Settings
from shared.bootstrap import ServiceRoot
from shared.db.migrations import migrations_of
from shared.erasure.consumer import user_erasure

ROOT = ServiceRoot(
    service=SERVICE,
    version=__version__,
    description="Projects, requirement interviews, prompts, task boards, commits and AI models.",
    settings=Settings,
    migrations=migrations_of(orchestrator),
    unit_of_work=SqlAlchemyUnitOfWork,
    translate=to_contract,
    route_handlers=route_handlers,
    # identity.user.deleted → the shared erasure with orchestrator's own rule
    consumers=[user_erasure(SERVICE, erase_users_data)],
    dependencies=dependencies,
    app_factory=f"{__name__}:ROOT.create_app_from_env",
)
