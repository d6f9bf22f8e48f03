"""Provision each service's database role and schema, as the compose stack's first job.

    provision_roles.py identity chat orchestrator

The admin connection is ``DATABASE_URL`` (its password from ``PGPASSWORD``, as libpq
reads it); each service's password is ``<SERVICE>_DB_PASSWORD``. Both arrive as secret
files through the entrypoint, never in the command line. Idempotent: a restarted stack
provisions again and changes nothing (``shared.db.provision``).
"""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg

from shared.db.provision import provision_service

EXIT_USAGE = 2


async def provision(admin_url: str, services: list[str]) -> None:
    # one after the other: roles and grants touch the same catalog rows
    for service in services:
        await provision_service(admin_url, service, os.environ[f"{service.upper()}_DB_PASSWORD"])
        print(f"provisioned role and schema {service}", flush=True)


def main(services: list[str]) -> int:
    admin_url = os.environ.get("DATABASE_URL", "")
    missing = [f"{s.upper()}_DB_PASSWORD" for s in services if not os.environ.get(f"{s.upper()}_DB_PASSWORD")]
    if not services or not admin_url or missing:
        print(f"usage: DATABASE_URL=... <SERVICE>_DB_PASSWORD=... {sys.argv[0]} SERVICE...", file=sys.stderr)
        if missing:
            print(f"missing: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(provision(admin_url, services))
    except (ValueError, OSError, asyncpg.PostgresError) as exc:
        print(f"provision: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
