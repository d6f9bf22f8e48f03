"""Implementations of orchestrator's ports: PostgreSQL (SQLAlchemy Core), the outbox, Alembic."""
