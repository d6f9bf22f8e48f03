"""Service databases for integration tests, provisioned like production.

Each test session provisions the service's role and schema under a unique name
(``chat_3f9a1c2b``: roles are cluster-wide, and the servers may be shared with
other runs), migrates it once, and truncates its tables before each test instead
of migrating again.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.engine import asyncpg_dsn
from shared.db.provision import provision_service, quote_ident, quote_ident_any, service_url

KEEP = ("alembic_version",)


@dataclass(frozen=True, slots=True)
class ServiceDatabase:
    name: str
    """The role's and the schema's name."""
    url: str
    """Connects as the service's role."""
    admin_url: str


def unique_name(service: str) -> str:
    return f"{service}_{uuid.uuid4().hex[:8]}"


async def create_service_database(admin_url: str, service: str) -> ServiceDatabase:
    name = unique_name(service)
    password = secrets.token_urlsafe(16)
    await provision_service(admin_url, name, password)
    return ServiceDatabase(name=name, url=service_url(admin_url, name, password), admin_url=admin_url)


async def drop_service_database(database: ServiceDatabase) -> None:
    role = quote_ident(database.name)
    conn: asyncpg.Connection = await asyncpg.connect(asyncpg_dsn(database.admin_url))
    try:
        # DROP OWNED takes the schema and the CONNECT grant with it; then the role can go
        await conn.execute(f"DROP OWNED BY {role} CASCADE")
        await conn.execute(f"DROP ROLE IF EXISTS {role}")
    finally:
        await conn.close()


async def truncate_tables(engine: AsyncEngine, schema: str, *, keep: tuple[str, ...] = KEEP) -> None:
    """Empty every table of ``schema`` but ``keep``, in one statement."""
    async with engine.begin() as conn:
        rows = await conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"), {"schema": schema}
        )
        tables = [f"{quote_ident(schema)}.{quote_ident_any(name)}" for (name,) in rows if name not in keep]
        if tables:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
