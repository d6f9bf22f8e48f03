"""identity's repositories and reads against real PostgreSQL."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from aiorch_devkit.testing.fakes import FixedClock
from identity.adapters.postgres.queries import SqlAlchemyQueries
from identity.adapters.postgres.session_gate import AsyncpgSessionGate
from identity.adapters.postgres.sessions import purge_ended_sessions
from identity.application.oidc import PendingLogin
from identity.application.ports import EmailTaken
from identity.application.throttle import take_mail_allowance
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.oidc_links import OidcLink
from identity.domain.one_time_tokens import OneTimeToken, TokenPurpose
from identity.domain.sessions import ClientInfo, RefreshToken, RevokeReason, Session, SessionLifetime
from identity.domain.throttling import ThrottlePolicy
from identity.domain.users import User
from shared.db.pool import open_read_pool
from shared.kernel.ids import new_id

NOW = datetime.now(UTC).replace(microsecond=0)
CLIENT = ClientInfo.of("10.1.2.3", "pytest")


def a_user(email="ada@example.org", **overrides) -> User:
    return User.register(email=email, name="Ada", password_hash="$argon2id$hash", now=NOW, **overrides)


async def saved_user(new_uow, email="ada@example.org", **overrides) -> User:
    user = a_user(email, **overrides)
    async with new_uow() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def saved_session(new_uow, user: User, *, now=NOW) -> Session:
    session = Session.start(user_id=user.id, now=now, lifetime=SessionLifetime(), client=CLIENT)
    async with new_uow() as uow:
        await uow.sessions.add(session)
        await uow.commit()
    return session


async def scalar(engine, sql: str, **params):
    async with engine.connect() as conn:
        return await conn.scalar(text(sql), params)


# -- users -------------------------------------------------------------------------------------


async def test_a_user_reads_back_as_it_was_written(new_uow):
    user = await saved_user(new_uow)

    async with new_uow() as uow:
        found = await uow.users.get(user.id)

    assert found == user


async def test_accounts_are_found_by_address_whatever_its_case(new_uow):
    user = await saved_user(new_uow, "Ada.Lovelace@example.org")

    async with new_uow() as uow:
        assert (await uow.users.by_email("ada.lovelace@EXAMPLE.org")).id == user.id
        assert await uow.users.by_email("someone@example.org") is None


async def test_a_second_account_with_the_same_address_in_another_case_is_refused(new_uow):
    await saved_user(new_uow, "ada@example.org")

    async with new_uow() as uow:
        with pytest.raises(EmailTaken):
            await uow.users.add(a_user("ADA@example.org"))
        # the transaction is still usable after the refusal
        await uow.users.add(a_user("grace@example.org"))
        await uow.commit()

    async with new_uow() as uow:
        assert await uow.users.by_email("grace@example.org") is not None


async def test_an_update_stores_every_field(new_uow):
    user = await saved_user(new_uow)
    user.rename("Ada L.", NOW + timedelta(seconds=1))
    user.change_role("admin", NOW + timedelta(seconds=1))
    user.set_password_hash("$argon2id$new", NOW + timedelta(seconds=1))
    user.verify_email(NOW)

    async with new_uow() as uow:
        await uow.users.update(user)
        await uow.commit()

    async with new_uow() as uow:
        assert await uow.users.get(user.id) == user


async def test_deleting_an_account_takes_its_sessions_tokens_and_links_with_it(new_uow, service_engine):
    user = await saved_user(new_uow)
    session = await saved_session(new_uow, user)
    async with new_uow() as uow:
        await uow.refresh_tokens.add(RefreshToken(digest=b"r" * 32, session_id=session.id, issued_at=NOW))
        await uow.one_time_tokens.add(
            OneTimeToken.issue(digest=b"o" * 32, purpose=TokenPurpose.RESET, user_id=user.id, now=NOW)
        )
        await uow.oidc_links.add(OidcLink(provider="google", subject="1", user_id=user.id, created_at=NOW))
        await uow.commit()

    async with new_uow() as uow:
        await uow.users.delete(user.id)
        await uow.commit()

    for table in ("users", "sessions", "refresh_tokens", "one_time_tokens", "oidc_links"):
        assert await scalar(service_engine, f"SELECT count(*) FROM {table}") == 0, table


# -- sessions and refresh tokens -----------------------------------------------------------------


async def test_revoking_all_sessions_but_one(new_uow):
    user = await saved_user(new_uow)
    kept, *others = [await saved_session(new_uow, user) for _ in range(3)]

    async with new_uow() as uow:
        revoked = await uow.sessions.revoke_all(
            user.id, now=NOW, reason=RevokeReason.PASSWORD_CHANGED, keep=kept.id
        )
        await uow.commit()

    assert revoked == 2
    async with new_uow() as uow:
        assert (await uow.sessions.get(kept.id)).revoked_at is None
        for other in others:
            assert (await uow.sessions.get(other.id)).revoke_reason is RevokeReason.PASSWORD_CHANGED


async def test_ended_sessions_are_deleted_with_their_tokens(new_uow, service_engine):
    user = await saved_user(new_uow)
    live = await saved_session(new_uow, user)
    idle = await saved_session(new_uow, user, now=NOW - timedelta(days=8))
    async with new_uow() as uow:
        await uow.refresh_tokens.add(RefreshToken(digest=b"i" * 32, session_id=idle.id, issued_at=NOW))
        assert await uow.sessions.delete_ended(user.id, NOW) == 1
        await uow.commit()

    assert await scalar(service_engine, "SELECT count(*) FROM refresh_tokens") == 0
    assert await scalar(service_engine, "SELECT id FROM sessions") == live.id


async def test_a_refresh_token_is_spent_once(new_uow):
    user = await saved_user(new_uow)
    session = await saved_session(new_uow, user)
    async with new_uow() as uow:
        await uow.refresh_tokens.add(RefreshToken(digest=b"t" * 32, session_id=session.id, issued_at=NOW))
        await uow.commit()

    async with new_uow() as uow:
        assert await uow.refresh_tokens.spend(b"t" * 32, NOW) == session.id
        assert await uow.refresh_tokens.spend(b"t" * 32, NOW) is None
        assert await uow.refresh_tokens.spend(b"unknown", NOW) is None
        assert (await uow.refresh_tokens.find(b"t" * 32)).spent_at == NOW
        await uow.commit()


async def test_of_fifty_concurrent_spends_of_one_token_exactly_one_wins(new_uow):
    user = await saved_user(new_uow)
    session = await saved_session(new_uow, user)
    async with new_uow() as uow:
        await uow.refresh_tokens.add(RefreshToken(digest=b"c" * 32, session_id=session.id, issued_at=NOW))
        await uow.commit()

    async def spend():
        async with new_uow() as uow:
            won = await uow.refresh_tokens.spend(b"c" * 32, NOW)
            await asyncio.sleep(0.01)  # hold the row lock a little, as a real refresh does
            await uow.commit()
            return won

    results = await asyncio.gather(*(spend() for _ in range(50)))

    assert results.count(session.id) == 1
    assert results.count(None) == 49


# -- one-time tokens -------------------------------------------------------------------------------


async def test_a_one_time_token_is_consumed_once_for_its_own_purpose_before_it_expires(new_uow):
    user = await saved_user(new_uow)
    fresh = OneTimeToken.issue(digest=b"f" * 32, purpose=TokenPurpose.RESET, user_id=user.id, now=NOW)
    stale = OneTimeToken.issue(
        digest=b"s" * 32, purpose=TokenPurpose.RESET, user_id=user.id, now=NOW - timedelta(minutes=16)
    )
    async with new_uow() as uow:
        await uow.one_time_tokens.add(fresh)
        await uow.one_time_tokens.add(stale)
        await uow.commit()

    async with new_uow() as uow:
        assert await uow.one_time_tokens.consume(b"f" * 32, TokenPurpose.VERIFY_EMAIL, NOW) is None
        assert (await uow.one_time_tokens.consume(b"f" * 32, TokenPurpose.RESET, NOW)).user_id == user.id
        assert await uow.one_time_tokens.consume(b"f" * 32, TokenPurpose.RESET, NOW) is None
        assert await uow.one_time_tokens.consume(b"s" * 32, TokenPurpose.RESET, NOW) is None
        await uow.one_time_tokens.discard(user.id, TokenPurpose.RESET)
        assert await uow.one_time_tokens.find(b"s" * 32, TokenPurpose.RESET) is None


# -- OIDC ----------------------------------------------------------------------------------------


async def test_a_pending_login_is_taken_once_and_never_after_it_expired(new_uow):
    pending = PendingLogin(
        provider="google",
        state="st",
        nonce="n",
        code_verifier="v",
        redirect_uri="http://x/cb",
        created_at=NOW,
    )
    expired = PendingLogin(
        provider="google",
        state="old",
        nonce="n",
        code_verifier="v",
        redirect_uri="http://x/cb",
        created_at=NOW,
    )
    async with new_uow() as uow:
        await uow.pending_logins.add(pending, expires_at=NOW + timedelta(minutes=10))
        await uow.pending_logins.add(expired, expires_at=NOW - timedelta(seconds=1))
        await uow.commit()

    async with new_uow() as uow:
        assert await uow.pending_logins.take("st", NOW) == pending
        assert await uow.pending_logins.take("st", NOW) is None
        assert await uow.pending_logins.take("old", NOW) is None
        assert await uow.pending_logins.prune(NOW) == 1


async def test_an_oidc_link_is_found_by_provider_and_subject(new_uow):
    user = await saved_user(new_uow)
    link = OidcLink(provider="google", subject="248289761001", user_id=user.id, created_at=NOW)
    async with new_uow() as uow:
        await uow.oidc_links.add(link)
        await uow.commit()

    async with new_uow() as uow:
        assert await uow.oidc_links.get("google", "248289761001") == link
        assert await uow.oidc_links.get("other", "248289761001") is None


# -- audit and throttling ------------------------------------------------------------------------


async def test_anonymising_keeps_the_entries_but_not_who_they_were_about(new_uow, service_engine):
    user, admin = await saved_user(new_uow), await saved_user(new_uow, "admin@example.org")
    async with new_uow() as uow:
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.LOGIN_SUCCEEDED, at=NOW, user_id=user.id, client=CLIENT, method="password"
            ),
            AuditEntry.record(
                AuditKind.ROLE_CHANGED, at=NOW, user_id=admin.id, actor_id=user.id, role="admin"
            ),
        )
        await uow.audit.anonymise(user.id)
        await uow.commit()

    async with service_engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT kind, user_id, actor_id, ip, details FROM audit_entries"))
        ).all()
    assert sorted(rows) == sorted(
        [("login_succeeded", None, None, None, {}), ("role_changed", admin.id, None, None, {"role": "admin"})]
    )


async def test_login_failures_are_counted_per_key_in_the_window_and_pruned(new_uow, service_engine):
    async with new_uow() as uow:
        for minutes in (20, 10, 5, 1):
            at = NOW - timedelta(minutes=minutes)
            await uow.attempts.add(["account:a", "address:1"], at=at, prune_before=at - timedelta(minutes=15))
        await uow.commit()

    async with new_uow() as uow:
        recent = await uow.attempts.recent("account:a", since=NOW - timedelta(minutes=15), limit=2)
        assert recent == [NOW - timedelta(minutes=1), NOW - timedelta(minutes=5)]
        await uow.attempts.clear("account:a")
        assert await uow.attempts.recent("account:a", since=NOW - timedelta(hours=1), limit=10) == []
        # the failure 20 minutes old was pruned when the one a minute old came in
        address = await uow.attempts.recent("address:1", since=NOW - timedelta(hours=1), limit=10)
        assert len(address) == 3
        await uow.commit()
    assert await scalar(service_engine, "SELECT count(*) FROM attempts") == 3


async def test_attempts_of_any_key_older_than_the_window_are_pruned_by_the_next_insert(
    new_uow, service_engine
):
    async with new_uow() as uow:
        long_ago = NOW - timedelta(days=1)
        await uow.attempts.add(["mail:old@example.org"], at=NOW - timedelta(hours=2), prune_before=long_ago)
        await uow.attempts.add(
            ["mail:recent@example.org"], at=NOW - timedelta(minutes=3), prune_before=long_ago
        )
        await uow.commit()
    async with new_uow() as uow:
        await uow.attempts.add(["account:someone"], at=NOW, prune_before=NOW - timedelta(minutes=15))
        await uow.commit()

    async with new_uow() as uow:
        day = NOW - timedelta(days=1)
        assert await uow.attempts.recent("mail:old@example.org", since=day, limit=5) == []
        assert len(await uow.attempts.recent("mail:recent@example.org", since=day, limit=5)) == 1
    assert await scalar(service_engine, "SELECT count(*) FROM attempts") == 2


async def test_concurrent_requests_for_links_to_one_address_take_turns_at_the_allowance(new_uow):
    policy = ThrottlePolicy(mails_per_address=3)

    async def ask() -> bool:
        async with new_uow() as uow:
            wait = await take_mail_allowance("ada@example.org", uow, policy, NOW)
            await asyncio.sleep(0.05)  # still in the transaction: a racing reader sees nothing yet
            await uow.commit()
        return wait is None

    allowed = await asyncio.gather(*(ask() for _ in range(10)))

    assert allowed.count(True) == 3


async def test_no_address_is_stored_in_the_failure_table(new_uow, service_engine):
    async with new_uow() as uow:
        await uow.attempts.add(["account:ada@example.org"], at=NOW, prune_before=NOW)
        await uow.commit()

    async with service_engine.connect() as conn:
        (key,) = (await conn.execute(text("SELECT key FROM attempts"))).one()
    assert b"ada" not in bytes(key)


# -- reads outside transactions ------------------------------------------------------------------


async def test_active_sessions_leave_out_revoked_and_expired_ones(new_uow, service_engine):
    user = await saved_user(new_uow)
    live = await saved_session(new_uow, user)
    idle = await saved_session(new_uow, user, now=NOW - timedelta(days=8))
    revoked = await saved_session(new_uow, user)
    async with new_uow() as uow:
        revoked.revoke(NOW, RevokeReason.LOGOUT)
        await uow.sessions.update(revoked)
        await uow.commit()

    sessions = await SqlAlchemyQueries(service_engine).active_sessions(user.id, NOW)

    assert [s.id for s in sessions] == [live.id]
    assert idle.id not in {s.id for s in sessions}


async def test_revoking_beyond_a_limit_keeps_the_most_recently_used_live_sessions(new_uow, service_engine):
    ada, grace = await saved_user(new_uow), await saved_user(new_uow, "grace@example.org")
    by_age = [await saved_session(new_uow, ada, now=NOW - timedelta(hours=h)) for h in (1, 2, 3, 4)]
    other = await saved_session(new_uow, grace, now=NOW - timedelta(hours=9))

    async with new_uow() as uow:
        revoked = await uow.sessions.revoke_beyond(ada.id, 2, now=NOW, reason=RevokeReason.SESSION_LIMIT)
        await uow.commit()

    assert revoked == 2
    live = await scalar(service_engine, "SELECT array_agg(id) FROM sessions WHERE revoked_at IS NULL")
    assert sorted(live) == sorted([by_age[0].id, by_age[1].id, other.id])
    reasons = await scalar(
        service_engine,
        "SELECT array_agg(DISTINCT revoke_reason::text) FROM sessions WHERE revoked_at IS NOT NULL",
    )
    assert reasons == ["session_limit"]


async def test_the_purge_chore_deletes_every_users_ended_sessions_and_keeps_the_rest(new_uow, service_engine):
    ada, grace = await saved_user(new_uow), await saved_user(new_uow, "grace@example.org")
    live = await saved_session(new_uow, ada)
    idle = await saved_session(new_uow, ada, now=NOW - timedelta(days=8))  # idle limit: 7 days
    too_old = await saved_session(new_uow, grace, now=NOW - timedelta(days=31))  # absolute: 30
    revoked = await saved_session(new_uow, grace)
    async with new_uow() as uow:
        revoked.revoke(NOW, RevokeReason.LOGOUT)
        await uow.sessions.update(revoked)
        await uow.commit()

    purged = await purge_ended_sessions(service_engine, FixedClock(NOW))

    assert purged == 2
    left = await scalar(service_engine, "SELECT array_agg(id ORDER BY id) FROM sessions")
    assert sorted(left) == sorted([live.id, revoked.id])  # a revoked one goes when it expires
    assert {idle.id, too_old.id}.isdisjoint(left)


async def test_users_are_listed_oldest_first_filtered_and_after_a_position(new_uow, service_engine):
    ada = await saved_user(new_uow, "ada@example.org")
    grace = await saved_user(new_uow, "grace@example.org", role="admin")
    percent = await saved_user(new_uow, "100%@example.org")
    queries = SqlAlchemyQueries(service_engine)

    assert [u.id for u in await queries.users(q=None, role=None, after=None, limit=10)] == [
        ada.id,
        grace.id,
        percent.id,
    ]
    assert [u.id for u in await queries.users(q="GRACE", role=None, after=None, limit=10)] == [grace.id]
    assert [u.id for u in await queries.users(q="%", role=None, after=None, limit=10)] == [percent.id]
    assert [u.id for u in await queries.users(q=None, role="admin", after=None, limit=10)] == [grace.id]
    assert [u.id for u in await queries.users(q=None, role=None, after=ada.id, limit=1)] == [grace.id]


async def test_audit_entries_are_listed_newest_first_per_user(new_uow, service_engine):
    user = await saved_user(new_uow)
    entries = [
        AuditEntry.record(AuditKind.LOGIN_FAILED, at=NOW + timedelta(seconds=i), user_id=user.id)
        for i in range(3)
    ]
    async with new_uow() as uow:
        await uow.audit.record(*entries, AuditEntry.record(AuditKind.LOGIN_FAILED, at=NOW, user_id=None))
        await uow.commit()
    queries = SqlAlchemyQueries(service_engine)

    page = await queries.audit(user_id=user.id, before=None, limit=2)
    assert [e.id for e in page] == [entries[2].id, entries[1].id]
    rest = await queries.audit(user_id=user.id, before=(page[-1].at, page[-1].id), limit=2)
    assert [e.id for e in rest] == [entries[0].id]
    assert len(await queries.audit(user_id=None, before=None, limit=10)) == 4


@pytest.fixture
async def read_pool(service_database, service_engine):
    pool = await open_read_pool(
        service_database.url, schema=service_database.name, application_name="identity-tests", size=2
    )
    yield pool
    await pool.close()


async def test_the_session_gate_answers_the_account_only_for_a_live_session_of_an_active_account(
    new_uow, read_pool
):
    user = await saved_user(new_uow, role="admin")
    session = await saved_session(new_uow, user)
    gate = AsyncpgSessionGate(read_pool)

    account = await gate.live_account(session.id, user.id)
    assert account == user
    assert account is not None
    assert account.role == "admin"
    assert account.password_hash == user.password_hash
    assert await gate.live_account(session.id, new_id()) is None  # someone else's session id
    assert await gate.live_account(new_id(), user.id) is None

    user.set_active(False, NOW)
    async with new_uow() as uow:
        await uow.users.update(user)
        await uow.commit()
    assert await gate.live_account(session.id, user.id) is None

    user.set_active(True, NOW)
    session.revoke(NOW, RevokeReason.LOGOUT)
    async with new_uow() as uow:
        await uow.users.update(user)
        await uow.sessions.update(session)
        await uow.commit()
    assert await gate.live_account(session.id, user.id) is None


async def test_the_session_gate_refuses_a_session_past_its_absolute_lifetime(new_uow, read_pool):
    user = await saved_user(new_uow)
    session = await saved_session(new_uow, user, now=NOW - timedelta(days=31))

    assert await AsyncpgSessionGate(read_pool).live_account(session.id, user.id) is None


# -- the unit of work and the outbox ---------------------------------------------------------------


async def test_events_reach_the_outbox_with_the_state_and_only_on_commit(new_uow, service_engine):
    user = a_user()
    async with new_uow() as uow:
        await uow.users.add(user)
        # no commit: rolled back

    assert await scalar(service_engine, "SELECT count(*) FROM outbox") == 0
    assert await scalar(service_engine, "SELECT count(*) FROM users") == 0

    user = a_user()
    async with new_uow() as uow:
        await uow.users.add(user)
        await uow.commit()

    assert (
        await scalar(service_engine, "SELECT event_type FROM outbox") == "aiorch.identity.user.registered.v1"
    )
    assert await scalar(service_engine, "SELECT subject_id FROM outbox") == str(user.id)
