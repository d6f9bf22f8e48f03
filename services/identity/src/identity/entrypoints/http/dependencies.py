"""Request-scoped dependencies of identity's handlers, read from what the lifespan put on ``app.state``.

``uow`` and ``principal`` come from ``shared.bootstrap``; these add identity's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from identity.adapters.crypto.verification import AccountPrincipal
from identity.application.ports import Queries, UnitOfWork
from identity.application.services import Services
from identity.domain.sessions import ClientInfo
from identity.domain.users import User
from shared.auth import authenticate

SERVICES: Final = "identity_services"
QUERIES: Final = "identity_queries"

# Handler parameter annotations; the parameter's name is the dependency's key. Ports are
# Protocols, which Litestar cannot check instances against: their values skip validation.
UnitOfWorkDep: TypeAlias = NamedDependency[SkipValidation[UnitOfWork]]
"""``uow``: the request's unit of work (``shared.bootstrap``)."""
ServicesDep: TypeAlias = NamedDependency[Services]
"""``services``."""
QueriesDep: TypeAlias = NamedDependency[SkipValidation[Queries]]
"""``queries``."""
ClientDep: TypeAlias = NamedDependency[ClientInfo]
"""``client_info``."""
AccountDep: TypeAlias = NamedDependency[SkipValidation[User]]
"""``account``: the caller's account, as the session check of its token read it."""


def provide_services(state: State) -> Services:
    services: Services = state[SERVICES]
    return services


def provide_queries(state: State) -> Queries:
    queries: Queries = state[QUERIES]
    return queries


def provide_client_info(request: Request[Any, Any, Any]) -> ClientInfo:
    """Where the request comes from, as shown to the user in their sessions and kept in the audit."""
    host = request.client.host if request.client else None
    return ClientInfo.of(host, request.headers.get("user-agent"))


async def provide_account(request: Request[Any, Any, Any]) -> User:
    """The caller's account: authenticating the request read it already (no second query).

    Raises:
        NotAuthorizedException: no valid token, or its session or account is no longer live.
    """
    principal = await authenticate(request)
    if not isinstance(principal, AccountPrincipal):
        raise RuntimeError("identity's token verifier must be a LiveSessionVerifier")
    return principal.account


def dependencies() -> Mapping[str, Provide]:
    return {
        "account": Provide(provide_account),
        "services": Provide(provide_services, sync_to_thread=False),
        "queries": Provide(provide_queries, sync_to_thread=False),
        "client_info": Provide(provide_client_info, sync_to_thread=False),
    }
