"""Requirement interviews and versioned prompts (with labels).

Revision ID: 0005
Revises: 0004
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Empty until the issue that adds these tables fills it in."""


def downgrade() -> None:
    """Empty until the issue that adds these tables fills it in."""
