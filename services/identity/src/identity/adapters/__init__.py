"""Implementations of identity's ports: PostgreSQL (SQLAlchemy Core), the outbox, Alembic."""
