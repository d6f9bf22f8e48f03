"""How the bench's bare apps are served: uvicorn on loopback, as the services are (uvloop,
httptools, no access log), their settings from the environment."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn


def serve(app_factory: str, *, required: Sequence[str], default_workers: int, **options: Any) -> None:
    """Runs ``module:factory`` (a module beside this one) on ``BARE_PORT``, ``BARE_WORKERS`` workers;
    ``options``: more of uvicorn's."""
    for name in required:
        if not os.environ.get(name):
            raise SystemExit(f"{app_factory.partition(':')[0]}: {name} is required")
    uvicorn.run(
        app_factory,
        factory=True,
        app_dir=str(Path(__file__).resolve().parent),
        host="127.0.0.1",
        port=int(os.environ["BARE_PORT"]),
        workers=int(os.environ.get("BARE_WORKERS", str(default_workers))),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        **options,
    )
