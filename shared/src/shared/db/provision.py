"""Database provisioning: one login role and one schema per service.

``provision_service`` makes role ``<service>`` the owner of schema ``<service>``
and grants it nothing anywhere else. A schema's owner gets no privileges on
other roles' schemas unless they grant them, and PostgreSQL grants PUBLIC no
``USAGE`` on new schemas, so a service *cannot* read another's tables. It is
idempotent (re-running it resets the password and the rights) and safe when
several services start at once.

CLI: ``python -m shared.db.provision --admin-url URL --service NAME --password PW``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence

import asyncpg
from sqlalchemy.engine import make_url

from shared.db.engine import asyncpg_dsn

NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names silently; refuse instead
# One provisioning at a time per cluster: CREATE ROLE races otherwise.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('aiorch.provision'))"


def quote_ident(name: str) -> str:
    """``name`` as a quoted identifier, after checking it is a plain lower-case name."""
    if not NAME.match(name) or len(name) > _MAX_IDENTIFIER or name.startswith("pg_"):
        raise ValueError(f"invalid service name {name!r}: must match {NAME.pattern}, at most 63 characters")
    return f'"{name}"'


def quote_ident_any(name: str) -> str:
    """Quote an identifier we did not choose (a database name), doubling embedded quotes."""
    return '"' + name.replace('"', '""') + '"'


def service_url(admin_url: str, service: str, password: str) -> str:
    """The admin URL with the service's role and password in place of the admin's."""
    url = make_url(admin_url).set(username=service, password=password)
    return url.render_as_string(hide_password=False)


async def provision_service(admin_url: str, service: str, password: str) -> None:
    """Create or update role and schema ``service``; see the module docstring."""
    role = quote_ident(service)
    if not password:
        raise ValueError("the service's password must not be empty")
    conn: asyncpg.Connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        if await conn.fetchval("SELECT current_user") == service:
            raise ValueError(f"refusing to provision {service!r}: it is the admin role itself")
        async with conn.transaction():
            await conn.execute(_LOCK)
            # utility statements take no bind parameters; let the server quote the literal
            secret = await conn.fetchval("SELECT quote_literal($1)", password)
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", service)
            verb = "ALTER" if exists else "CREATE"
            await conn.execute(
                f"{verb} ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                f"NOREPLICATION NOBYPASSRLS PASSWORD {secret}"
            )
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {role} AUTHORIZATION {role}")
            # a schema created earlier by someone else must still belong to the service
            await conn.execute(f"ALTER SCHEMA {role} OWNER TO {role}")
            await conn.execute(f"ALTER ROLE {role} SET search_path = {role}")
            # PostgreSQL < 15 lets every role create tables in public; nobody should
            await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            database = quote_ident_any(await conn.fetchval("SELECT current_database()"))
            # explicit, for clusters where CONNECT was revoked from PUBLIC
            await conn.execute(f"GRANT CONNECT ON DATABASE {database} TO {role}")
    finally:
        await conn.close()


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m shared.db.provision",
        description="Create (or update) a service's login role and its own schema. Idempotent.",
    )
    parser.add_argument("--admin-url", required=True, help="URL of a role allowed to create roles")
    parser.add_argument("--service", required=True, help="role and schema name, e.g. chat")
    parser.add_argument("--password", required=True, help="the service role's password")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        asyncio.run(provision_service(args.admin_url, args.service, args.password))
    except (ValueError, OSError, asyncpg.PostgresError) as exc:
        print(f"provision: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"provisioned role and schema {args.service}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
