"""Conventional commits and the projection of chat sessions.

Revision ID: 0007
Revises: 0006
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Empty until the issue that adds these tables fills it in."""


def downgrade() -> None:
    """Empty until the issue that adds these tables fills it in."""
