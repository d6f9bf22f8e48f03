"""The mailed links point where ``IDENTITY_LINK_BASE_URL`` says: identity's own pages by default,
an app's when it owns them."""

from __future__ import annotations

from identity.application.email_verification import RequestEmailVerification
from identity.application.password_reset import RequestPasswordReset
from identity.application.policy import Policy
from identity.application.registration import Register
from identity.bootstrap.ports import policy
from identity.settings import Settings
from shared.settings import load_settings

from .fakes import fake_identity

MINIMAL = {
    "IDENTITY_DATABASE_URL": "postgresql://svc:pw@db/aiorch",
    "IDENTITY_NATS_URL": "nats://bus:4222",
    "IDENTITY_DB_SCHEMA": "identity",
    "IDENTITY_PUBLIC_URL": "https://id.example/",
}


def settings(**environ: str) -> Settings:
    return load_settings(Settings, prefix="IDENTITY_", environ={**MINIMAL, **environ})


def test_the_link_base_defaults_to_identitys_public_url_and_a_setting_moves_it() -> None:
    own = policy(settings())
    assert own.link_base_url == "https://id.example"
    moved = policy(settings(IDENTITY_LINK_BASE_URL="https://app.example/account/"))
    assert moved.link_base_url == "https://app.example/account"
    assert moved.public_url == "https://id.example"  # OIDC redirects stay identity's


async def test_both_mailed_links_use_the_configured_base(uow) -> None:
    fakes = fake_identity(
        policy=Policy(public_url="https://id.example", link_base_url="https://app.example/account")
    )
    user = await fakes.use.register(Register(email="ada@example.org", password="correct horse battery"), uow)
    await fakes.use.request_password_reset(RequestPasswordReset(email="ada@example.org"), uow)
    await fakes.use.request_email_verification(RequestEmailVerification(user_id=user.id), uow)

    reset, verify = fakes.mailer.sent[-2:]
    assert "https://app.example/account/reset-password#token=" in reset.text
    assert "https://app.example/account/verify-email#token=" in verify.text
    assert "id.example" not in reset.text + verify.text
