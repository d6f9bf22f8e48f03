"""The ports orchestrator's use cases depend on; adapters implement them."""

from __future__ import annotations

from typing import Protocol

from shared.kernel import unit_of_work
from shared.kernel.erasure import ErasureLedger


class UnitOfWork(unit_of_work.UnitOfWork, Protocol):
    """orchestrator's transaction (see ``shared.kernel.unit_of_work``) and its repositories.

    ``erasures`` is the shared erasure ledger (``shared.kernel.erasure``), so this is
    also the unit of work ``erase_user`` needs.
    """

    erasures: ErasureLedger
