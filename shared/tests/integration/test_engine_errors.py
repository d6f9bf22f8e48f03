"""A database error raised through a service's engine never carries the statement's values: its
message reaches the logs (issue 7, point 8: an email and a reset-token hash appeared there)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.db import create_engine

SECRET = "reset-token-hash-5f1d2c"


async def test_a_failing_statement_does_not_print_its_parameters(servers):
    engine = create_engine(servers.postgres_url, schema="public", application_name="engine-errors")
    try:
        with pytest.raises(DBAPIError) as raised:
            async with engine.connect() as conn:
                # PostgreSQL's text cannot hold a NUL: what a NUL in a request did before the edge refused it
                await conn.execute(text("SELECT CAST(:value AS text)"), {"value": f"{SECRET}\x00"})
    finally:
        await engine.dispose()

    assert "0x00" in str(raised.value)
    assert SECRET not in str(raised.value)
    assert SECRET not in repr(raised.value.orig)


async def test_a_unique_violation_does_not_print_the_duplicate_value(servers):
    engine = create_engine(servers.postgres_url, schema="public", application_name="engine-errors")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TEMPORARY TABLE accounts (email text UNIQUE)"))
            await conn.execute(text("INSERT INTO accounts VALUES (:email)"), {"email": SECRET})
            with pytest.raises(DBAPIError) as raised:
                async with conn.begin_nested():
                    await conn.execute(text("INSERT INTO accounts VALUES (:email)"), {"email": SECRET})
    finally:
        await engine.dispose()

    assert "unique" in str(raised.value)
    assert SECRET not in str(raised.value)
