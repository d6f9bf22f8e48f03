"""identity verifies its own tokens: keys parsed once from its ring, the session checked every time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from services.identity.tests.unit.fakes import SteppingClock

from identity.adapters.crypto.jwt_tokens import JwtAccessTokenIssuer
from identity.adapters.crypto.signing_keys import FileSigningKeys
from identity.adapters.crypto.verification import LiveSessionVerifier, OwnKeys
from identity.application.ports import AccountPrincipal
from identity.domain.users import User
from shared.auth import InvalidToken

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"
SESSION = UUID("0190a4c6-7d2e-7b3a-9f1e-5c2d8a6b4e11")
OVERLAP = timedelta(hours=1)


class FakeSessionGate:
    """Accounts by session id; a session not listed is revoked. Counts the checks."""

    def __init__(self) -> None:
        self.live: dict[UUID, User] = {}
        self.checks = 0

    async def live_account(self, session_id: UUID, user_id: UUID) -> User | None:
        self.checks += 1
        account = self.live.get(session_id)
        return account if account is not None and account.id == user_id and account.is_active else None


@pytest.fixture
def clock() -> SteppingClock:
    # Real time, because PyJWT checks exp and iat against the wall clock.
    return SteppingClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def directory(tmp_path):
    return tmp_path / "identity-keys"


@pytest.fixture
def ring(directory, clock) -> FileSigningKeys:
    return FileSigningKeys(directory, clock=clock)


@pytest.fixture
def account(clock) -> User:
    return User.register(email="ada@example.org", name="Ada", password_hash=None, now=clock.now())


@pytest.fixture
def gate(account) -> FakeSessionGate:
    gate = FakeSessionGate()
    gate.live[SESSION] = account
    return gate


@pytest.fixture
def verifier(ring, gate) -> LiveSessionVerifier:
    return LiveSessionVerifier(OwnKeys(ring), gate, issuer=ISSUER, audience=AUDIENCE)


def token_for(ring, clock, account: User, *, role: str = "user") -> str:
    issuer = JwtAccessTokenIssuer(ring, issuer=ISSUER, audience=AUDIENCE)
    return issuer.issue(user_id=account.id, role=role, session_id=SESSION, now=clock.now()).token


# The key ring and its lookup


async def test_the_ring_answers_the_same_key_set_while_nothing_changes(ring, clock):
    first = ring.jwks()
    clock.advance(timedelta(minutes=5))

    assert ring.jwks() is first


async def test_a_key_is_parsed_once_and_kept_across_lookups(ring):
    keys = OwnKeys(ring)
    kid = ring.current_kid()

    key = await keys.get(kid)

    assert key is not None
    assert await keys.get(kid) is key
    assert await keys.get("unknown") is None


async def test_a_rotation_by_another_process_is_seen_at_once_and_the_old_key_keeps_its_object(
    ring, directory, clock
):
    keys = OwnKeys(ring)
    old_kid = ring.current_kid()
    old_key = await keys.get(old_kid)

    new_kid = FileSigningKeys(directory, clock=clock).rotate(overlap=OVERLAP, now=clock.now())

    assert await keys.get(new_kid) is not None
    assert await keys.get(old_kid) is old_key


async def test_a_previous_key_stops_being_found_when_its_overlap_ends(ring, clock):
    keys = OwnKeys(ring)
    old_kid = ring.current_kid()
    ring.rotate(overlap=OVERLAP, now=clock.now())
    assert await keys.get(old_kid) is not None

    clock.advance(OVERLAP)

    assert await keys.get(old_kid) is None
    assert await keys.get(ring.current_kid()) is not None


# The verifier: signatures remembered, sessions checked every time


async def test_a_valid_token_gives_the_principal_with_the_account_as_the_session_check_read_it(
    verifier, ring, clock, account
):
    principal = await verifier.verify(token_for(ring, clock, account))

    assert isinstance(principal, AccountPrincipal)
    assert (principal.user_id, principal.session_id, principal.role) == (account.id, SESSION, "user")
    assert principal.account is account


async def test_the_session_is_checked_on_every_request_even_for_a_remembered_token(
    verifier, gate, ring, clock, account
):
    token = token_for(ring, clock, account)
    await verifier.verify(token)
    await verifier.verify(token)
    assert (gate.checks, verifier.cached) == (2, 1)

    del gate.live[SESSION]  # logout, password change, admin action...

    with pytest.raises(InvalidToken, match="session revoked or account inactive"):
        await verifier.verify(token)


async def test_a_remembered_token_of_a_deactivated_account_is_refused(verifier, ring, clock, account):
    token = token_for(ring, clock, account)
    await verifier.verify(token)

    account.is_active = False

    with pytest.raises(InvalidToken, match="session revoked or account inactive"):
        await verifier.verify(token)


async def test_a_remembered_token_whose_role_changed_since_is_refused(verifier, ring, clock, account):
    token = token_for(ring, clock, account)
    await verifier.verify(token)

    account.role = "admin"

    with pytest.raises(InvalidToken, match="role changed"):
        await verifier.verify(token)


async def test_a_remembered_token_of_a_retired_key_is_refused(verifier, ring, clock, account):
    token = token_for(ring, clock, account)
    await verifier.verify(token)

    ring.rotate(overlap=timedelta(0), now=clock.now())

    with pytest.raises(InvalidToken, match="unknown kid"):
        await verifier.verify(token)
