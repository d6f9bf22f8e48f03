"""Implementations of chat's ports: PostgreSQL (SQLAlchemy Core), the outbox, Alembic."""
