"""One email identity: every spelling of an address that has the same canonical form
(``identity.domain.emails.canonical_email``) reaches the same account, counts against the same
throttle key and cannot register a second account; a spelling with another canonical form
reaches nothing of the first account, not even its failure counter."""

import hashlib

import pytest
import sqlalchemy as sa
from services.identity.tests.integration.conftest import PASSWORD, bearer

from aiorch_devkit.testing.databases import create_service_database, drop_service_database
from identity.domain.throttling import account_key
from shared.db.engine import create_engine
from shared.db.migrations import upgrade
from shared.service_settings import CoreSettings

# Each list: how the account was registered first, then look-alike spellings of it.
SPELLINGS = [
    pytest.param(
        [
            "victim@example.org",
            "VICTIM@EXAMPLE.ORG",
            "\uff56\uff49\uff43\uff54\uff49\uff4d@example.org",  # full-width
            "\U0001d42f\U0001d422\U0001d41c\U0001d42d\U0001d422\U0001d426@example.org",  # math bold
            "Victim@Example.org",
        ],
        id="case-full-width-math-bold",
    ),
    pytest.param(["stra\u00dfe@example.org", "STRASSE@example.org", "strasse@example.org"], id="sharp-s"),
    pytest.param(["\ufb01nn@example.org", "FINN@example.org", "finn@example.org"], id="fi-ligature"),
    pytest.param(
        ["jos\u00e9@example.org", "jose\u0301@example.org", "JOS\u00c9@example.org"], id="combining"
    ),
    pytest.param(
        ["v\u0130ctim@example.org", "vi\u0307ctim@example.org", "VI\u0307CTIM@example.org"], id="dotted-I"
    ),
]


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


@pytest.mark.parametrize("spellings", SPELLINGS)
async def test_look_alike_spellings_reach_one_account_one_counter_and_cannot_register_twice(api, spellings):
    owner = await api.register(spellings[0])
    keys = {digest(account_key(spelling)) for spelling in spellings}

    for spelling in spellings:
        wrong = {"email": spelling, "password": "wrong!pass"}
        assert (await api.client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    # Every wrong guess, whatever the spelling, was counted under the one key.
    assert len(keys) == 1
    counted = await api.sql("SELECT count(*) FROM attempts WHERE key = :key", key=next(iter(keys)))
    assert counted == [(len(spellings),)]

    for spelling in spellings:
        tokens = await api.login(spelling)
        me = await api.client.get("/api/v1/users/me", headers=bearer(tokens))
        assert me.json()["id"] == owner["id"]
        await api.client.post("/api/v1/auth/register", json={"email": spelling, "password": PASSWORD})
    assert await api.sql("SELECT count(*) FROM users") == [(1,)]


@pytest.mark.parametrize(
    ("registered", "other"),
    [
        ("victim@example.org", "v\u0130ctim@example.org"),  # dotted capital I: not a plain i
        ("victim@example.org", "v\u0131ctim@example.org"),  # dotless i
        ("admin@example.org", "adm\u0456n@example.org"),  # Cyrillic i
    ],
)
async def test_a_spelling_with_another_canonical_form_reaches_nothing_of_the_account(api, registered, other):
    await api.register(registered)

    wrong = await api.client.post("/api/v1/auth/login", json={"email": other, "password": "wrong!pass"})
    right = await api.client.post("/api/v1/auth/login", json={"email": other, "password": PASSWORD})

    assert (wrong.status_code, right.status_code) == (401, 401)
    counted = await api.sql(
        "SELECT count(*) FROM attempts WHERE key = :key", key=digest(account_key(registered))
    )
    assert counted == [(0,)]


async def test_the_unique_index_is_on_the_canonical_form(api):
    await api.register("finn@example.org")

    with pytest.raises(sa.exc.IntegrityError):
        await api.sql(
            "INSERT INTO users (id, email, email_canonical, role, is_active, created_at, updated_at) "
            "VALUES (gen_random_uuid(), 'other@example.org', 'finn@example.org', 'user', true, now(), now())"
        )


# -- the migration ------------------------------------------------------------------------------------


@pytest.fixture
async def at_0002(service_root, servers):
    """A new database migrated to 0002 (before the canonical column): its engine and Alembic config."""
    database = await create_service_database(servers.postgres_url, "identity_canonical")
    config = service_root.alembic_config(CoreSettings(database_url=database.url, db_schema=database.name))
    await upgrade(config, "0002")
    engine = create_engine(database.url, schema=database.name, application_name="identity-tests")
    try:
        yield engine, config
    finally:
        await engine.dispose()
        await drop_service_database(database)


async def insert_accounts(engine, *emails: str) -> None:
    async with engine.begin() as conn:
        for email in emails:
            await conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, role, is_active, created_at, updated_at) "
                    "VALUES (gen_random_uuid(), :email, 'user', true, now(), now())"
                ),
                {"email": email},
            )


async def test_the_migration_computes_the_canonical_form_of_existing_accounts(at_0002):
    engine, config = at_0002
    await insert_accounts(engine, "Ada@example.org", "stra\u00dfe@example.org", "\uff42ob@example.org")

    await upgrade(config, "0003")

    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT email, email_canonical FROM users ORDER BY email"))).all()
    assert {email: canonical for email, canonical in rows} == {
        "Ada@example.org": "ada@example.org",
        "stra\u00dfe@example.org": "strasse@example.org",
        "\uff42ob@example.org": "bob@example.org",
    }


async def test_the_migration_stops_loudly_when_two_accounts_share_a_canonical_form(at_0002):
    engine, config = at_0002
    # Distinct under lower(), one account under the canonical form.
    await insert_accounts(engine, "strasse@example.org", "stra\u00dfe@example.org", "ada@example.org")

    with pytest.raises(Exception, match="1 group\\(s\\) of accounts share one canonical email address"):
        await upgrade(config, "0003")

    async with engine.connect() as conn:
        version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one()
        columns = (
            await conn.execute(
                sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")
            )
        ).scalars()
        assert version == "0002"
        assert "email_canonical" not in set(columns)
