"""The messaging tables: outbox (events to publish) and inbox (events applied).

Revision ID: 0001
Revises:
"""

from alembic import op

from shared.db.migrations import migration_schema
from shared.messaging.outbox_schema import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox(op, migration_schema())


def downgrade() -> None:
    drop_outbox_and_inbox(op, migration_schema())
