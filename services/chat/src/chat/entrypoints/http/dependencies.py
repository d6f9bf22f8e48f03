"""Request-scoped dependencies of chat's handlers.

``uow`` and ``principal`` come from ``shared.bootstrap``; a module that adds a provider of its own
(read from ``app.state``) declares its alias here or beside its controller and hands its
provider to the bootstrap's ``dependencies``.
"""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency
from litestar.params import SkipValidation

from chat.application.ports import UnitOfWork

# Handler parameter annotations; the parameter's name is the dependency's key. Ports are
# Protocols, which Litestar cannot check instances against: their values skip validation.
UnitOfWorkDep: TypeAlias = NamedDependency[SkipValidation[UnitOfWork]]
"""``uow``: the request's unit of work (``shared.bootstrap``)."""
