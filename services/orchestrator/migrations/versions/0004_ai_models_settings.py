"""The AI-model registry and system settings (with their audit trail).

Revision ID: 0004
Revises: 0003
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Empty until the issue that adds these tables fills it in."""


def downgrade() -> None:
    """Empty until the issue that adds these tables fills it in."""
