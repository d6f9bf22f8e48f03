"""identity's own verifier refuses a token issued to live longer than identity issues them, even
one signed with its real key (issue 7, point 7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from identity.adapters.crypto.jwt_tokens import JwtAccessTokenIssuer
from identity.adapters.crypto.signing_keys import FileSigningKeys
from identity.adapters.crypto.verification import LiveSessionVerifier, OwnKeys
from identity.domain.users import User
from shared.auth import InvalidToken

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"
SESSION = UUID("0190a4c6-7d2e-7b3a-9f1e-5c2d8a6b4e12")


class LiveGate:
    def __init__(self, account: User) -> None:
        self.account = account

    async def live_account(self, session_id: UUID, user_id: UUID) -> User | None:
        return self.account


def token(ring: FileSigningKeys, account: User, ttl: timedelta) -> str:
    issuer = JwtAccessTokenIssuer(ring, issuer=ISSUER, audience=AUDIENCE, ttl=ttl)
    return issuer.issue(user_id=account.id, role="user", session_id=SESSION, now=datetime.now(UTC)).token


async def test_a_ten_year_token_signed_with_identitys_own_key_is_refused(tmp_path):
    ring = FileSigningKeys(tmp_path / "keys")
    account = User.register(email="ada@example.org", name=None, password_hash=None, now=datetime.now(UTC))
    verifier = LiveSessionVerifier(
        OwnKeys(ring), LiveGate(account), issuer=ISSUER, audience=AUDIENCE, max_lifetime=900
    )

    accepted = await verifier.verify(token(ring, account, timedelta(minutes=15)))
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token(ring, account, timedelta(days=3650)))

    assert accepted.user_id == account.id
    assert caught.value.reason == "lifetime (exp - iat) longer than allowed"
