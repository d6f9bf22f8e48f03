"""Request-scoped dependencies of identity's handlers, read from what the lifespan put on ``app.state``.

``uow`` and ``principal`` come from ``shared.bootstrap``; these add identity's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeAlias, TypeVar

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from identity.application.policy import Policy
from identity.application.ports import AccountPrincipal, Background, UnitOfWork
from identity.application.use_cases import UseCases
from identity.domain.sessions import ClientInfo
from identity.domain.users import User
from shared.auth import authenticate

USE_CASES: Final = "identity_use_cases"
POLICY: Final = "identity_policy"
BACKGROUND: Final = "identity_background"
PORTS: Final = "identity_ports"
"""What the use cases were bound to; read by nothing but tests (the mailer, the key ring)."""

T = TypeVar("T")

# Handler parameter annotations; the parameter's name is the dependency's key. Ports and bound
# use cases are Protocols and callables, which Litestar cannot check instances against: their
# values skip validation.
Dep: TypeAlias = NamedDependency[SkipValidation[T]]
"""A bound use case (``application.use_cases``), by its name: ``register: Dep[Handler[Register, User]]``."""
UnitOfWorkDep: TypeAlias = NamedDependency[SkipValidation[UnitOfWork]]
"""``uow``: the request's unit of work (``shared.bootstrap``)."""
PolicyDep: TypeAlias = NamedDependency[Policy]
"""``policy``: the rules from the settings (issuer, public URL, providers)."""
BackgroundDep: TypeAlias = NamedDependency[SkipValidation[Background]]
"""``background``: work left for after the answer."""
ClientDep: TypeAlias = NamedDependency[ClientInfo]
"""``client_info``."""
AccountDep: TypeAlias = NamedDependency[SkipValidation[User]]
"""``account``: the caller's account, as the session check of its token read it."""


def _from_state(key: str, attribute: str | None = None) -> Provide:
    def provide(state: State) -> Any:
        value = state[key]
        return value if attribute is None else getattr(value, attribute)

    return Provide(provide, sync_to_thread=False)


def provide_client_info(request: Request[Any, Any, Any]) -> ClientInfo:
    """Where the request comes from, as shown to the user in their sessions and kept in the audit."""
    host = request.client.host if request.client else None
    return ClientInfo.of(host, request.headers.get("user-agent"))


async def provide_account(request: Request[Any, Any, Any]) -> User:
    """The caller's account: authenticating the request read it already (no second query).

    Raises:
        NotAuthorizedException: no valid token, or its session or account is no longer live.
    """
    principal: AccountPrincipal = await authenticate(request)  # type: ignore[assignment]
    # A plain class check: isinstance() against a runtime-checkable Protocol costs ~7 µs,
    # on every authenticated request.
    account = getattr(principal, "account", None)
    if not isinstance(account, User):
        raise RuntimeError("identity's token verifier must answer an AccountPrincipal")
    return account


def dependencies() -> Mapping[str, Provide]:
    return {
        "account": Provide(provide_account),
        "client_info": Provide(provide_client_info, sync_to_thread=False),
        "policy": _from_state(POLICY),
        "background": _from_state(BACKGROUND),
        **{name: _from_state(USE_CASES, name) for name in UseCases.__dataclass_fields__},
    }
