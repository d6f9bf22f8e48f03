"""Alembic driven from code, the same way for every service.

A service keeps its revisions in ``services/<service>/migrations``, beside
``src/`` (so the service is installed from its source tree: ``pip install -e
services/<service>``); its ``env.py`` only calls :func:`run_env`. The version
table lives in the service's schema. Two ways in:

* ``aiorch-<service> migrate`` (and tests) call :func:`upgrade`, which opens the
  connection itself and hands it to Alembic, so it works inside a running loop;
* the plain ``alembic -c services/<service>/alembic.ini ...`` command runs
  ``env.py`` with no connection: it reads the service's settings and connects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from shared.db.engine import sqlalchemy_url
from shared.service_settings import CoreSettings, load_service_settings

_URL = "database_url"
_SCHEMA = "schema"
_CONNECTION = "connection"


def migrations_of(package: ModuleType) -> Path:
    """Where a service's revisions are: ``src/chat/__init__.py`` → ``services/chat/migrations``."""
    assert package.__file__ is not None
    return Path(package.__file__).resolve().parents[2] / "migrations"


def alembic_config(script_location: Path, *, database_url: str, schema: str) -> Config:
    """A config without an ini file: the script directory, the URL and the schema."""
    if not (script_location / "env.py").is_file():
        raise FileNotFoundError(
            f"no Alembic environment at {script_location}: the service must be installed from "
            "its source tree (pip install -e services/<service>)"
        )
    config = Config()
    config.set_main_option("script_location", str(script_location))
    # attributes, not main options: a URL may hold '%', which ini interpolation mangles
    config.attributes[_URL] = database_url
    config.attributes[_SCHEMA] = schema
    return config


async def upgrade(config: Config, revision: str = "head") -> None:
    await _with_connection(config, lambda: command.upgrade(config, revision))


async def downgrade(config: Config, revision: str) -> None:
    await _with_connection(config, lambda: command.downgrade(config, revision))


async def current_revision(config: Config) -> str | None:
    """The revision the schema is at (None before the first migration)."""
    engine = _engine(config.attributes[_URL], config.attributes[_SCHEMA])
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(
                    sync, opts={"version_table_schema": config.attributes[_SCHEMA]}
                ).get_current_revision()
            )
    finally:
        await engine.dispose()


def migration_schema() -> str:
    """The schema being migrated; revision scripts qualify every name with it."""
    from alembic import op

    schema = op.get_context().version_table_schema
    if not isinstance(schema, str) or not schema:
        raise RuntimeError("the migration environment did not set version_table_schema")
    return schema


def run_env(service: str) -> None:
    """The body of a service's ``env.py``.

    Args:
        service: whose settings (``<SERVICE>_DATABASE_URL``...) give the URL and the schema
            when Alembic runs from its own command line.
    """
    from alembic import context

    config = context.config
    connection = config.attributes.get(_CONNECTION)
    if connection is not None:
        _migrate(connection, config.attributes[_SCHEMA])
        return
    url, schema = config.attributes.get(_URL), config.attributes.get(_SCHEMA)
    if url is None or schema is None:
        settings = load_service_settings(CoreSettings, service)
        url, schema = settings.database_url, settings.db_schema
    if context.is_offline_mode():
        context.configure(
            url=sqlalchemy_url(url), literal_binds=True, version_table_schema=schema, include_schemas=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_connect_and_migrate(url, schema))


def _engine(url: str, schema: str) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url),
        poolclass=NullPool,
        connect_args={"server_settings": {"search_path": schema, "application_name": "migrations"}},
    )


async def _with_connection(config: Config, action: Callable[[], None]) -> None:
    engine = _engine(config.attributes[_URL], config.attributes[_SCHEMA])

    def run(sync_connection: Connection) -> None:
        config.attributes[_CONNECTION] = sync_connection
        try:
            action()
        finally:
            config.attributes.pop(_CONNECTION, None)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def _connect_and_migrate(url: str, schema: str) -> None:
    engine = _engine(url, schema)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: _migrate(sync, schema))
    finally:
        await engine.dispose()


def _migrate(connection: Connection, schema: str) -> None:
    from alembic import context

    context.configure(connection=connection, version_table_schema=schema, include_schemas=True)
    with context.begin_transaction():
        context.run_migrations()
