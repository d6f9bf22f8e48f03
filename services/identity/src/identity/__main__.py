"""``python -m identity`` is ``aiorch-identity``."""

from identity.entrypoints.cli import main

raise SystemExit(main())
