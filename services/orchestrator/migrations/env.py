"""orchestrator's Alembic environment: everything is in shared.db.migrations.run_env."""

from orchestrator import SERVICE
from shared.db.migrations import run_env

run_env(SERVICE)
