"""Database helpers: engines bound to a service's own schema and role."""

from shared.db.engine import asyncpg_dsn, create_engine, sqlalchemy_url

__all__ = ["asyncpg_dsn", "create_engine", "sqlalchemy_url"]
