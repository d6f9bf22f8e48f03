"""The OIDC client against a real provider over HTTP on loopback: authorize → callback → identity."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from services.identity.tests.oidc_fixtures import oidc_provider_fixture as oidc_provider_fixture
from services.identity.tests.oidc_provider import REDIRECT_URI, OidcTestProvider

from identity.adapters.oidc.client import HttpOidcClient
from identity.application.oidc import (
    OidcError,
    OidcFailure,
    OidcIdentity,
    OidcProviderConfig,
    OidcProviderUnavailable,
    PendingLogin,
    callback_code,
    providers_from_json,
)


class SteppingClock:
    """Real time, plus however far the test has moved it on."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        self.offset += by


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def oidc(oidc_provider, http, clock) -> HttpOidcClient:
    return HttpOidcClient({"test": oidc_provider.config()}, http, clock)


async def login(oidc: HttpOidcClient, provider: OidcTestProvider, http: httpx.AsyncClient) -> OidcIdentity:
    """What the HTTP layer does: authorize, let the browser visit the provider, then the callback."""
    request = await oidc.authorization_request("test", REDIRECT_URI)
    code = callback_code(request.pending, await provider.authorize(http, request.url))
    return await oidc.complete("test", code=code, pending=request.pending, redirect_uri=REDIRECT_URI)


async def refused(oidc: HttpOidcClient, provider: OidcTestProvider, http: httpx.AsyncClient) -> OidcError:
    with pytest.raises(OidcError) as error:
        await login(oidc, provider, http)
    return error.value


async def test_a_login_returns_the_identity_the_provider_vouches_for(oidc, oidc_provider, http):
    identity = await login(oidc, oidc_provider, http)

    assert identity == OidcIdentity(
        issuer=oidc_provider.issuer,
        subject="248289761001",
        email="ada@example.com",
        email_verified=True,
        name="Ada Lovelace",
    )
    assert oidc_provider.requests["token"] == 1


async def test_the_authorization_url_asks_for_a_code_with_pkce_s256_and_fresh_secrets(oidc, oidc_provider):
    first = await oidc.authorization_request("test", REDIRECT_URI)
    second = await oidc.authorization_request("test", REDIRECT_URI)

    url = urlsplit(first.url)
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{oidc_provider.issuer}/authorize"
    verifier = first.pending.code_verifier
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query == {
        "response_type": "code",
        "client_id": oidc_provider.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": first.pending.state,
        "nonce": first.pending.nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    assert "code_verifier" not in first.url
    # ≥128 random bits each: 22+ base64url characters; and never reused.
    assert all(len(secret) >= 22 for secret in (first.pending.state, first.pending.nonce))
    assert 43 <= len(verifier) <= 128
    assert {first.pending.state, first.pending.nonce} & {second.pending.state, second.pending.nonce} == set()


async def test_the_pending_login_hides_its_secrets_from_logs(oidc):
    request = await oidc.authorization_request("test", REDIRECT_URI)

    assert request.pending.nonce not in repr(request.pending)
    assert request.pending.code_verifier not in repr(request.pending)


@pytest.mark.parametrize(("claimed", "reported"), [(True, True), ("true", True), (False, False)])
async def test_the_email_is_verified_only_when_the_provider_says_so(
    oidc, oidc_provider, http, claimed, reported
):
    oidc_provider.user.email_verified = claimed

    assert (await login(oidc, oidc_provider, http)).email_verified is reported


async def test_a_user_without_an_email_logs_in_with_none(oidc, oidc_provider, http):
    oidc_provider.user.email = None
    oidc_provider.user.name = None

    identity = await login(oidc, oidc_provider, http)

    assert (identity.email, identity.email_verified, identity.name) == (None, False, None)


async def test_a_callback_with_another_state_is_refused(oidc, oidc_provider, http):
    request = await oidc.authorization_request("test", REDIRECT_URI)
    params = await oidc_provider.authorize(http, request.url)

    with pytest.raises(OidcError) as forged:
        callback_code(request.pending, {**params, "state": "forged-by-an-attacker"})
    with pytest.raises(OidcError) as unknown:
        callback_code(None, params)  # the caller found no pending login for that state

    assert forged.value.reason is unknown.value.reason is OidcFailure.STATE_MISMATCH


async def test_the_provider_denying_access_is_refused_with_its_error(oidc, oidc_provider, http):
    oidc_provider.deny = "access_denied"

    error = await refused(oidc, oidc_provider, http)

    assert error.reason is OidcFailure.PROVIDER_ERROR
    assert "access_denied" in error.detail
    assert oidc_provider.requests["token"] == 0


def test_a_callback_without_a_code_is_refused():
    pending = PendingLogin(
        provider="test",
        state="s",
        nonce="n",
        code_verifier="v",
        redirect_uri=REDIRECT_URI,
        created_at=datetime.now(UTC),
    )

    with pytest.raises(OidcError) as error:
        callback_code(pending, {"state": "s"})

    assert error.value.reason is OidcFailure.PROVIDER_ERROR


async def test_an_id_token_answering_another_login_is_refused(oidc, oidc_provider, http):
    oidc_provider.nonce_override = "a-nonce-from-another-login"

    assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.NONCE_MISMATCH


async def test_an_id_token_signed_with_another_key_is_refused(oidc, oidc_provider, http):
    oidc_provider.sign_with_wrong_key = True

    assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.BAD_SIGNATURE


async def test_an_id_token_for_another_client_is_refused(oidc, oidc_provider, http):
    oidc_provider.audience = "someone-elses-client"

    assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.WRONG_AUDIENCE


async def test_several_audiences_need_an_azp_naming_this_client(oidc, oidc_provider, http):
    oidc_provider.audience = [oidc_provider.client_id, "another-client"]
    assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.WRONG_AUDIENCE

    oidc_provider.extra_claims = {"azp": "another-client"}
    assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.WRONG_AUDIENCE

    oidc_provider.extra_claims = {"azp": oidc_provider.client_id}
    assert (await login(oidc, oidc_provider, http)).subject == "248289761001"


async def test_an_id_token_from_another_issuer_is_refused(oidc, oidc_provider, http):
    oidc_provider.issuer_override = "https://evil.example"

    assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.WRONG_ISSUER


async def test_an_expired_id_token_is_refused(oidc, oidc_provider, http):
    oidc_provider.expired = True

    assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.EXPIRED_ID_TOKEN


async def test_an_id_token_issued_in_the_future_is_refused(oidc, oidc_provider, http):
    oidc_provider.extra_claims = {"iat": int(datetime.now(UTC).timestamp()) + 3600}

    assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.INVALID_ID_TOKEN


async def test_a_login_not_completed_within_ten_minutes_is_refused(oidc, oidc_provider, http, clock):
    request = await oidc.authorization_request("test", REDIRECT_URI)
    code = callback_code(request.pending, await oidc_provider.authorize(http, request.url))
    clock.advance(timedelta(minutes=10))

    with pytest.raises(OidcError) as error:
        await oidc.complete("test", code=code, pending=request.pending, redirect_uri=REDIRECT_URI)

    assert error.value.reason is OidcFailure.LOGIN_EXPIRED


async def test_a_code_is_spent_by_its_first_use(oidc, oidc_provider, http):
    request = await oidc.authorization_request("test", REDIRECT_URI)
    code = callback_code(request.pending, await oidc_provider.authorize(http, request.url))
    await oidc.complete("test", code=code, pending=request.pending, redirect_uri=REDIRECT_URI)

    with pytest.raises(OidcError) as error:
        await oidc.complete("test", code=code, pending=request.pending, redirect_uri=REDIRECT_URI)

    assert error.value.reason is OidcFailure.TOKEN_ERROR
    assert "invalid_grant" in error.value.detail


async def test_a_stolen_code_is_useless_without_the_pkce_verifier(oidc, oidc_provider, http):
    victim = await oidc.authorization_request("test", REDIRECT_URI)
    code = callback_code(victim.pending, await oidc_provider.authorize(http, victim.url))
    attacker = await oidc.authorization_request("test", REDIRECT_URI)
    # The attacker replays the victim's code into their own login (their state, verifier, nonce).
    with pytest.raises(OidcError) as error:
        await oidc.complete("test", code=code, pending=attacker.pending, redirect_uri=REDIRECT_URI)

    assert error.value.reason is OidcFailure.TOKEN_ERROR


async def test_a_login_started_for_one_provider_cannot_complete_at_another(oidc_provider, http, clock):
    oidc = HttpOidcClient(
        {"test": oidc_provider.config(), "other": oidc_provider.config("other")}, http, clock
    )
    request = await oidc.authorization_request("test", REDIRECT_URI)
    code = callback_code(request.pending, await oidc_provider.authorize(http, request.url))

    with pytest.raises(OidcError) as error:
        await oidc.complete("other", code=code, pending=request.pending, redirect_uri=REDIRECT_URI)

    assert error.value.reason is OidcFailure.STATE_MISMATCH


async def test_an_unknown_provider_is_refused(oidc):
    with pytest.raises(OidcError) as error:
        await oidc.authorization_request("myspace", REDIRECT_URI)

    assert error.value.reason is OidcFailure.UNKNOWN_PROVIDER


async def test_discovery_and_keys_are_fetched_once_for_many_logins(oidc, oidc_provider, http):
    for _ in range(3):
        await login(oidc, oidc_provider, http)

    assert (oidc_provider.requests["discovery"], oidc_provider.requests["jwks"]) == (1, 1)


async def test_discovery_is_fetched_again_after_its_ttl(oidc, oidc_provider, http, clock):
    await login(oidc, oidc_provider, http)
    clock.advance(timedelta(hours=1))

    await login(oidc, oidc_provider, http)

    assert (oidc_provider.requests["discovery"], oidc_provider.requests["jwks"]) == (2, 2)


async def test_a_rotated_signing_key_is_fetched_when_a_token_names_it(oidc, oidc_provider, http, clock):
    await login(oidc, oidc_provider, http)
    oidc_provider.rotate_key()
    clock.advance(timedelta(seconds=31))

    assert (await login(oidc, oidc_provider, http)).subject == "248289761001"
    assert oidc_provider.requests["jwks"] == 2


async def test_made_up_key_ids_do_not_make_every_login_fetch_the_keys(oidc, oidc_provider, http, clock):
    await login(oidc, oidc_provider, http)
    oidc_provider.unpublished_kid = "made-up"

    for _ in range(3):
        assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.BAD_SIGNATURE
    assert oidc_provider.requests["jwks"] == 1

    clock.advance(timedelta(seconds=31))
    assert (await refused(oidc, oidc_provider, http)).reason is OidcFailure.BAD_SIGNATURE
    assert oidc_provider.requests["jwks"] == 2


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
async def test_providers_signing_with_ec_or_ed25519_keys_are_verified(algorithm, http, clock):
    with OidcTestProvider(algorithm=algorithm) as provider:
        oidc = HttpOidcClient({"test": provider.config()}, http, clock)

        assert (await login(oidc, provider, http)).email == "ada@example.com"

        provider.sign_with_wrong_key = True
        assert (await refused(oidc, provider, http)).reason is OidcFailure.BAD_SIGNATURE


async def test_a_provider_accepting_only_basic_auth_gets_the_form_encoded_secret(http, clock):
    secret = "s3cr:t/+ with spaces&more"
    with OidcTestProvider(token_auth_methods=("client_secret_basic",), client_secret=secret) as provider:
        oidc = HttpOidcClient({"test": provider.config()}, http, clock)

        assert (await login(oidc, provider, http)).subject == "248289761001"


async def test_a_wrong_client_secret_is_refused_by_the_provider(oidc_provider, http, clock):
    oidc = HttpOidcClient({"test": oidc_provider.config(client_secret="wrong")}, http, clock)

    error = await refused(oidc, oidc_provider, http)

    assert error.reason is OidcFailure.TOKEN_ERROR
    assert "invalid_client" in error.detail


async def test_a_discovery_document_naming_another_issuer_is_unusable(oidc_provider, http, clock):
    # Same server, but configured under another spelling of its URL than it announces.
    config = oidc_provider.config(issuer=oidc_provider.issuer.replace("127.0.0.1", "localhost"))
    oidc = HttpOidcClient({"test": config}, http, clock)

    with pytest.raises(OidcProviderUnavailable, match="names issuer"):
        await oidc.authorization_request("test", REDIRECT_URI)


async def test_an_unreachable_provider_is_unavailable_not_a_bad_request(oidc, oidc_provider):
    oidc_provider.stop()

    with pytest.raises(OidcProviderUnavailable):
        await oidc.authorization_request("test", REDIRECT_URI)


def test_providers_are_configured_from_json():
    providers = providers_from_json(
        '{"google": {"issuer": "https://accounts.google.com", "client_id": "id", "client_secret": "secret"}}'
    )

    assert providers == {
        "google": OidcProviderConfig(
            name="google", issuer="https://accounts.google.com", client_id="id", client_secret="secret"
        )
    }
    assert "secret" not in repr(providers)
    assert providers_from_json("") == {}


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"google": {"issuer": "http://accounts.google.com", "client_id": "i", "client_secret": "s"}}',
        '{"google": {"issuer": "https://accounts.google.com", "client_id": "i"}}',
        '{"google": {"issuer": "https://a.example", "client_id": "i", "client_secret": "s", "scopes": "x"}}',
        '{"Bad Name": {"issuer": "https://a.example", "client_id": "i", "client_secret": "s"}}',
        '{"google": {"issuer": "https://a.example", "client_id": "i", "client_secret": "s", "x": "y"}}',
    ],
)
def test_a_bad_provider_configuration_is_rejected(text):
    with pytest.raises(ValueError, match="OIDC provider"):
        providers_from_json(text)
