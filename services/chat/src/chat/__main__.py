"""``python -m chat`` is ``aiorch-chat``."""

from chat.entrypoints.cli import main

raise SystemExit(main())
