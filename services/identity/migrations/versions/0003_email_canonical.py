"""Accounts matched on one canonical address: ``users.email_canonical`` and its unique index,
in place of the unique index on PostgreSQL's ``lower(email)``.

The canonical form is computed here in Python, frozen as it was when this revision was
written (NFKC, case-folded, NFKC again: identity.domain.emails.canonical_email). Two
existing accounts whose addresses share a canonical form cannot both keep it: the upgrade
stops, naming the account ids, and changes nothing, so an operator decides which stays.

Revision ID: 0003
Revises: 0002
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

from shared.db.migrations import migration_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def canonical_v1(address: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", address.strip()).casefold())


class CanonicalCollision(RuntimeError):
    pass


def upgrade() -> None:
    schema = migration_schema()
    op.add_column("users", sa.Column("email_canonical", sa.Text, nullable=True), schema=schema)
    users = sa.table(
        "users", sa.column("id"), sa.column("email"), sa.column("email_canonical"), schema=schema
    )
    bind = op.get_bind()
    owners: dict[str, list[object]] = {}
    for row in bind.execute(sa.select(users.c.id, users.c.email)):
        owners.setdefault(canonical_v1(row.email), []).append(row.id)
    collisions = [ids for ids in owners.values() if len(ids) > 1]
    if collisions:
        # Ids only: the addresses are personal data, and the log of a migration is kept.
        listed = "; ".join(", ".join(str(i) for i in ids) for ids in collisions)
        raise CanonicalCollision(
            f"{len(collisions)} group(s) of accounts share one canonical email address; keep one "
            f"account of each (or change the others' address) and migrate again: {listed}"
        )
    updates = [{"b_id": ids[0], "b_canonical": canonical} for canonical, ids in owners.items()]
    if updates:
        bind.execute(
            users.update()
            .where(users.c.id == sa.bindparam("b_id"))
            .values(email_canonical=sa.bindparam("b_canonical")),
            updates,
        )
    op.alter_column("users", "email_canonical", nullable=False, schema=schema)
    op.create_index("users_email_canonical_key", "users", ["email_canonical"], unique=True, schema=schema)
    op.drop_index("users_email_key", table_name="users", schema=schema)


def downgrade() -> None:
    schema = migration_schema()
    op.create_index("users_email_key", "users", [sa.text("lower(email)")], unique=True, schema=schema)
    op.drop_index("users_email_canonical_key", table_name="users", schema=schema)
    op.drop_column("users", "email_canonical", schema=schema)
