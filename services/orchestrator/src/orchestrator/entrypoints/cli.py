"""``aiorch-orchestrator`` (also ``python -m orchestrator``): migrate | api | worker | dead-letters.

The commands, their exit codes and what each one does are shared by every service
(``shared.cli``); orchestrator's composition root supplies the pieces.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.bootstrap import ROOT
from shared.cli import run, service_commands


def main(argv: Sequence[str] | None = None) -> int:
    return run(service_commands(ROOT), argv)
