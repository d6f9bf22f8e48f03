"""Sessions: idle and absolute expiry, revocation, what a client tells about itself."""

from datetime import UTC, datetime, timedelta

from identity.domain.sessions import ClientInfo, RevokeReason, Session, SessionLifetime
from shared.kernel.ids import new_id

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
LIFETIME = SessionLifetime(absolute=timedelta(days=30), idle=timedelta(days=7))


def started() -> Session:
    return Session.start(
        user_id=new_id(), now=NOW, lifetime=LIFETIME, client=ClientInfo.of("10.0.0.1", "curl/8")
    )


def test_a_session_idle_for_its_idle_timeout_has_ended():
    session = started()

    assert session.is_active(NOW + timedelta(days=7) - timedelta(seconds=1))
    assert not session.is_active(NOW + timedelta(days=7))


def test_use_pushes_the_idle_expiry_but_never_past_the_absolute_one():
    session = started()
    for day in range(6, 36, 6):
        session.touch(NOW + timedelta(days=day), ClientInfo())

    assert session.expires_at == NOW + timedelta(days=30)
    assert not session.is_active(NOW + timedelta(days=30))


def test_revocation_keeps_the_first_reason():
    session = started()

    assert session.revoke(NOW, RevokeReason.LOGOUT)
    assert not session.revoke(NOW, RevokeReason.REFRESH_REUSE)
    assert session.revoke_reason is RevokeReason.LOGOUT
    assert not session.is_active(NOW)


def test_client_details_are_trimmed_to_printable_text_of_bounded_length():
    client = ClientInfo.of("", "agent\x00\n" + "x" * 1000)

    assert client.ip is None
    assert client.user_agent is not None
    assert client.user_agent.startswith("agentx")
    assert len(client.user_agent) == 256
