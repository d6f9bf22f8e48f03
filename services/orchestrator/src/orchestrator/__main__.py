"""``python -m orchestrator`` is ``aiorch-orchestrator``."""

from orchestrator.entrypoints.cli import main

raise SystemExit(main())
