"""Domain events → public contracts (``shared.contracts``).

The one place that knows both, so refactoring the domain never breaks a
consumer. chat publishes nothing yet; each new domain event registers its
contract here with ``@to_contract.register``.
"""

from __future__ import annotations

from functools import singledispatch

from chat.domain.events import DomainEvent
from shared.contracts.base import Event


@singledispatch
def to_contract(event: DomainEvent) -> Event:
    raise TypeError(f"no public contract for {type(event).__name__}: register one in {__name__}")
