"""Each service reaches the database through its own role, which cannot read another's tables."""

import asyncpg
import pytest

from aiorch_devkit.testing.databases import create_service_database, drop_service_database


async def test_a_service_role_cannot_read_another_services_tables(servers):
    identity = await create_service_database(servers.postgres_url, "identity")
    chat = await create_service_database(servers.postgres_url, "chat")
    try:
        as_identity = await asyncpg.connect(identity.url)
        try:
            await as_identity.execute("CREATE TABLE users (id int PRIMARY KEY, email text)")
            await as_identity.execute("INSERT INTO users VALUES (1, 'a@example.com')")
        finally:
            await as_identity.close()

        as_chat = await asyncpg.connect(chat.url)
        try:
            assert await as_chat.fetchval("SELECT current_setting('search_path')") == chat.name
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await as_chat.fetch(f"SELECT email FROM {identity.name}.users")
        finally:
            await as_chat.close()
    finally:
        await drop_service_database(chat)
        await drop_service_database(identity)
