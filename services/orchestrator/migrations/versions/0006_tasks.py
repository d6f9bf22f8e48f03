"""The Kanban board: tasks, their dependencies and activity.

Revision ID: 0006
Revises: 0005
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Empty until the issue that adds these tables fills it in."""


def downgrade() -> None:
    """Empty until the issue that adds these tables fills it in."""
