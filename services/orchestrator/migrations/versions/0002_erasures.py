"""Erasures: evidence that a deleted user's data was erased here.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from shared.db.migration_ops import create_erasure_ledger_v1, drop_erasure_ledger_v1
from shared.db.migrations import migration_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_erasure_ledger_v1(op, migration_schema())


def downgrade() -> None:
    drop_erasure_ledger_v1(op, migration_schema())
