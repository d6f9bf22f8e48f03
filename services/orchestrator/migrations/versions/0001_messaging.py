"""The messaging tables: outbox (events to publish) and inbox (events applied).

Revision ID: 0001
Revises:
"""

from alembic import op

from shared.db.migration_ops import create_messaging_tables_v1, drop_messaging_tables_v1
from shared.db.migrations import migration_schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1(op, migration_schema())


def downgrade() -> None:
    drop_messaging_tables_v1(op, migration_schema())
