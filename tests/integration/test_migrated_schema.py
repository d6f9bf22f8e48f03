"""The live table definitions the code queries match what the migrations built: the same columns,
types, nullability, keys and server defaults after ``alembic upgrade head``. Migrations are frozen
(``shared.db.migration_ops``), so a change to a live table without a new revision fails here."""

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from chat.adapters.postgres import tables as chat_tables
from orchestrator.adapters.postgres import tables as orchestrator_tables
from shared.erasure.tables import erasures
from shared.messaging.outbox_schema import inbox, outbox

pytestmark = pytest.mark.parametrize("service_root", ["identity", "chat", "orchestrator"], indirect=True)

LIVE = {
    "identity": [outbox, inbox],
    "chat": [outbox, inbox, erasures, *chat_tables.metadata.sorted_tables],
    "orchestrator": [outbox, inbox, erasures, *orchestrator_tables.metadata.sorted_tables],
}
DIALECT = postgresql.dialect()


def type_of(column_type: sa.types.TypeEngine) -> str:
    return column_type.compile(dialect=DIALECT)


def live_shape(table: sa.Table) -> dict[str, object]:
    columns = []
    for column in table.columns:
        default = column.server_default
        columns.append(
            (
                column.name,
                type_of(column.type),
                column.nullable,
                str(default.arg) if isinstance(default, sa.DefaultClause) else None,
                column.identity is not None,
            )
        )
    return {
        "columns": columns,
        "primary_key": [column.name for column in table.primary_key.columns],
        "unique": sorted(column.name for column in table.columns if column.unique),
    }


def migrated_shape(inspector: sa.Inspector, table: str, schema: str) -> dict[str, object]:
    unique = [c["column_names"] for c in inspector.get_unique_constraints(table, schema=schema)]
    return {
        "columns": [
            (
                column["name"],
                type_of(column["type"]),
                column["nullable"],
                column["default"],
                bool(column.get("identity")),
            )
            for column in inspector.get_columns(table, schema=schema)
        ],
        "primary_key": inspector.get_pk_constraint(table, schema=schema)["constrained_columns"],
        "unique": sorted(name for names in unique if len(names) == 1 for name in names),
    }


async def test_the_live_tables_match_the_migrated_schema(service_root, service_database, service_engine):
    schema = service_database.name

    def shapes(sync_conn) -> dict[str, dict[str, object]]:
        inspector = sa.inspect(sync_conn)
        return {
            table.name: migrated_shape(inspector, table.name, schema) for table in LIVE[service_root.service]
        }

    async with service_engine.connect() as conn:
        migrated = await conn.run_sync(shapes)

    assert migrated == {table.name: live_shape(table) for table in LIVE[service_root.service]}


async def test_the_comparison_sees_a_column_the_migrations_never_made(
    service_root, service_database, service_engine
):
    drifted = sa.Table(
        "outbox", sa.MetaData(), *(c._copy() for c in outbox.columns), sa.Column("extra", sa.Text)
    )

    def shape(sync_conn) -> dict[str, object]:
        return migrated_shape(sa.inspect(sync_conn), "outbox", service_database.name)

    async with service_engine.connect() as conn:
        migrated = await conn.run_sync(shape)

    assert migrated != live_shape(drifted)
    assert migrated == live_shape(outbox)
