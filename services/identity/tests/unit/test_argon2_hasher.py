"""Argon2PasswordHasher: argon2id at OWASP's parameters, off the event loop, never raising on bad hashes."""

import asyncio

import argon2
import pytest

from identity.adapters.crypto.argon2_hasher import Argon2PasswordHasher
from identity.application.ports import PasswordHasher

# Cheap parameters for the behaviour tests; the defaults get their own tests.
CHEAP = {"memory_kib": 1024, "time_cost": 1, "parallelism": 1}


@pytest.fixture
def hasher():
    hasher = Argon2PasswordHasher(**CHEAP)
    yield hasher
    hasher.close()


def test_it_implements_the_port(hasher):
    port: PasswordHasher = hasher
    assert port is hasher


async def test_the_defaults_are_argon2id_with_owasp_parameters():
    hasher = Argon2PasswordHasher()
    try:
        hashed = await hasher.hash("correct horse battery staple")
    finally:
        hasher.close()
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_the_right_password_verifies(hasher):
    hashed = await hasher.hash("correct horse battery staple")
    assert await hasher.verify(hashed, "correct horse battery staple") is True


async def test_a_wrong_password_does_not_verify(hasher):
    hashed = await hasher.hash("correct horse battery staple")
    assert await hasher.verify(hashed, "correct horse battery stapler") is False
    assert await hasher.verify(hashed, "") is False


async def test_each_hash_gets_its_own_salt(hasher):
    first, second = await asyncio.gather(hasher.hash("same password"), hasher.hash("same password"))
    assert first != second
    assert await hasher.verify(first, "same password")
    assert await hasher.verify(second, "same password")


async def test_the_hash_never_contains_the_password(hasher):
    hashed = await hasher.hash("correct horse battery staple")
    assert "correct" not in hashed


async def test_unicode_passwords_round_trip(hasher):
    for password in ("pässwörd-ñandú", "🔑🦊🌵🎻🧭🪁🛶🍋", "пароль-надёжный"):
        assert await hasher.verify(await hasher.hash(password), password)


async def test_a_lone_surrogate_is_hashed_rather_than_raising(hasher):
    hashed = await hasher.hash("bad \ud800 text")
    assert await hasher.verify(hashed, "bad \ud800 text")
    assert not await hasher.verify(hashed, "bad \ud801 text")


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "not a hash",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "$argon2id$v=19$m=1024,t=1,p=1$",
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$",
        "$argon2id$v=19$m=0,t=0,p=0$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$argon2id$v=99$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2doYXNoaGFzaA",
        "ärgon2id-non-ascii",
        "$argon2id$\x00",
    ],
)
async def test_a_malformed_hash_is_no_match_and_never_an_error(hasher, malformed):
    assert await hasher.verify(malformed, "anything at all") is False


async def test_a_truncated_hash_is_no_match(hasher):
    hashed = await hasher.hash("correct horse battery staple")
    assert await hasher.verify(hashed[:-5], "correct horse battery staple") is False


async def test_the_dummy_verification_always_fails(hasher):
    assert await hasher.verify_dummy("correct horse battery staple") is False
    assert await hasher.verify_dummy("") is False


async def test_a_hash_made_with_the_current_parameters_needs_no_rehash(hasher):
    assert hasher.needs_rehash(await hasher.hash("correct horse battery staple")) is False


@pytest.mark.parametrize(
    "changed",
    [
        {**CHEAP, "time_cost": 2},
        {**CHEAP, "memory_kib": 2048},
        {**CHEAP, "parallelism": 2},
    ],
)
async def test_a_hash_needs_rehash_after_a_parameter_change(hasher, changed):
    hashed = await hasher.hash("correct horse battery staple")
    upgraded = Argon2PasswordHasher(**changed)
    try:
        assert upgraded.needs_rehash(hashed) is True
        # ... and it still verifies, so the login that notices can store the new hash.
        assert await upgraded.verify(hashed, "correct horse battery staple")
        assert upgraded.needs_rehash(await upgraded.hash("correct horse battery staple")) is False
    finally:
        upgraded.close()


async def test_an_argon2i_hash_still_verifies_but_needs_rehash_to_argon2id(hasher):
    legacy = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=argon2.Type.I)
    hashed = legacy.hash("correct horse battery staple")
    assert await hasher.verify(hashed, "correct horse battery staple")
    assert hasher.needs_rehash(hashed) is True


def test_a_malformed_hash_needs_rehash(hasher):
    assert hasher.needs_rehash("not a hash") is True
    assert hasher.needs_rehash("") is True


async def test_hashing_at_the_default_parameters_does_not_block_the_event_loop():
    hasher = Argon2PasswordHasher()
    ticks = 0
    hashing = True

    async def ticker() -> None:
        nonlocal ticks
        while hashing:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        hashes = await asyncio.gather(*(hasher.hash(f"password number {n}") for n in range(4)))
    finally:
        hashing = False
        await task
        hasher.close()
    # Four hashes cost well over 100 ms of CPU. Run on the loop, they would leave the ticker
    # a handful of turns (one between each); run in threads, it keeps ticking all along.
    assert ticks >= 20
    assert len(set(hashes)) == 4
