"""SmtpMailer against a real SMTP server (aiosmtpd) on loopback: envelope, headers, AUTH, TLS, failures."""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import parsedate_to_datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from structlog.testing import capture_logs

from aiorch_devkit.devservers import free_port
from aiorch_devkit.testing.fakes import FixedClock
from identity.adapters.mail.smtp_mailer import SmtpConfig, SmtpMailer
from identity.application.mail import MailDeliveryError, password_reset_mail

TOKEN = "rT0k3n-Zq9xLmNpQrStUvWxYz0123456789abcdEFGhij"
RESET_URL = f"https://aiorch.example.com/reset-password#token={TOKEN}"
SENDER = "aiorch <no-reply@aiorch.example.com>"
RECIPIENT = "Bob@Example.com"
SMTP_USER = "mailer"
SMTP_PASSWORD = "s3cret-smtp-passw0rd"
NOW = datetime(2026, 11, 23, 10, 15, 0, 123456, tzinfo=UTC)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: bytes | None
    over_tls: bool


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        auth = session.auth_data if session.authenticated else None
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=BytesParser(policy=default).parsebytes(envelope.original_content),  # type: ignore[arg-type]
                login=auth.login if isinstance(auth, LoginPassword) else None,
                # session.ssl is set by STARTTLS only; the transport knows for implicit TLS too.
                over_tls=server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 2.0.0 Message accepted"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@dataclass
class SmtpServer:
    port: int
    handler: RecordingHandler


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., SmtpServer]]:
    """Starts aiosmtpd servers on 127.0.0.1 (keyword arguments go to its Controller); stops them after."""
    controllers: list[Controller] = []

    def start(**kwargs: Any) -> SmtpServer:
        handler = RecordingHandler()
        port = free_port()
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, server_hostname="mail.test", **kwargs
        )
        controller.start()
        controllers.append(controller)
        return SmtpServer(port=port, handler=handler)

    yield start
    for controller in controllers:
        controller.stop()


@dataclass(frozen=True)
class Tls:
    ca_file: Path
    server_context: ssl.SSLContext


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A throw-away CA and a certificate for 127.0.0.1 it signed, as the server's TLS context."""
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aiorch test CA")])
    ca = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    leaf = (
        _certificate(leaf_name, ca_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return Tls(ca_file=ca_file, server_context=context)


def _certificate(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, digital_signature: bool = False, key_cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def mailer(port: int, **overrides: Any) -> SmtpMailer:
    config: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": SENDER,
        "security": "none",
        "timeout": 5.0,
    }
    return SmtpMailer(SmtpConfig(**(config | overrides)), clock=FixedClock(NOW))


def reset_mail() -> Any:
    return password_reset_mail(RECIPIENT, RESET_URL, 15)


async def test_a_reset_mail_arrives_with_its_envelope_headers_and_link(smtp_server):
    server = smtp_server()

    with capture_logs() as logs:
        await mailer(server.port).send(reset_mail())

    [received] = server.handler.received
    assert received.mail_from == "no-reply@aiorch.example.com"
    assert received.rcpt_tos == [RECIPIENT]
    message = received.message
    assert message["From"] == SENDER
    assert message["To"] == RECIPIENT
    assert message["Subject"] == "Reset your aiorch password"
    assert parsedate_to_datetime(message["Date"]) == NOW.replace(microsecond=0)
    assert re.fullmatch(r"<[0-9a-f]{32}@aiorch\.example\.com>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert RESET_URL in text.get_content()
    assert f'href="{RESET_URL}"' in html.get_content()
    assert not received.over_tls
    assert received.login is None
    [sent] = [entry for entry in logs if entry["event"] == "mail.sent"]
    assert sent["recipient_domain"] == "example.com"
    assert sent["message_id"] == message["Message-ID"].strip("<>")
    assert TOKEN not in repr(logs)
    assert RECIPIENT.lower() not in repr(logs).lower()


async def test_the_mailer_logs_in_when_credentials_are_configured(smtp_server):
    server = smtp_server(authenticator=authenticator, auth_require_tls=False)

    with capture_logs() as logs:
        await mailer(server.port, username=SMTP_USER, password=SMTP_PASSWORD).send(reset_mail())

    [received] = server.handler.received
    assert received.login == SMTP_USER.encode()
    assert SMTP_PASSWORD not in repr(logs)


async def test_wrong_credentials_are_a_permanent_delivery_error(smtp_server):
    server = smtp_server(authenticator=authenticator, auth_require_tls=False)

    with capture_logs() as logs, pytest.raises(MailDeliveryError) as caught:
        await mailer(server.port, username=SMTP_USER, password="wrong-password").send(reset_mail())

    assert caught.value.permanent
    assert "535" in str(caught.value)
    assert server.handler.received == []
    assert "wrong-password" not in repr(logs) + str(caught.value)


async def test_a_refused_connection_is_a_transient_delivery_error_that_reveals_no_secret():
    closed_port = free_port()

    with capture_logs() as logs, pytest.raises(MailDeliveryError) as caught:
        await mailer(closed_port).send(reset_mail())

    assert not caught.value.permanent
    assert "example.com" in str(caught.value)
    assert TOKEN not in str(caught.value) + repr(logs)
    [failed] = [entry for entry in logs if entry["event"] == "mail.delivery_failed"]
    assert failed["recipient_domain"] == "example.com"


async def test_starttls_upgrades_the_connection_before_sending(smtp_server, tls):
    server = smtp_server(tls_context=tls.server_context, require_starttls=True)

    await mailer(server.port, security="starttls", ca_file=str(tls.ca_file)).send(reset_mail())

    [received] = server.handler.received
    assert received.over_tls


async def test_credentials_travel_inside_starttls(smtp_server, tls):
    server = smtp_server(tls_context=tls.server_context, require_starttls=True, authenticator=authenticator)

    await mailer(
        server.port, security="starttls", ca_file=str(tls.ca_file), username=SMTP_USER, password=SMTP_PASSWORD
    ).send(reset_mail())

    [received] = server.handler.received
    assert received.over_tls
    assert received.login == SMTP_USER.encode()


async def test_starttls_never_falls_back_to_plain_text(smtp_server, tls):
    server = smtp_server()  # offers no STARTTLS

    with pytest.raises(MailDeliveryError, match="STARTTLS"):
        await mailer(server.port, security="starttls", ca_file=str(tls.ca_file)).send(reset_mail())

    assert server.handler.received == []


async def test_implicit_tls_sends_over_tls_from_the_first_byte(smtp_server, tls):
    server = smtp_server(ssl_context=tls.server_context)

    await mailer(server.port, security="tls", ca_file=str(tls.ca_file)).send(reset_mail())

    [received] = server.handler.received
    assert received.over_tls


async def test_a_certificate_the_mailer_does_not_trust_is_refused(smtp_server, tls):
    server = smtp_server(tls_context=tls.server_context, require_starttls=True)

    with pytest.raises(MailDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        await mailer(server.port, security="starttls").send(reset_mail())  # system trust store only

    assert server.handler.received == []


def test_credentials_are_refused_over_an_unencrypted_connection_to_another_host():
    with pytest.raises(ValueError, match="unencrypted"):
        SmtpConfig(host="smtp.example.com", sender=SENDER, security="none", username="u", password="p")


def test_plain_connections_with_credentials_are_allowed_on_loopback():
    SmtpConfig(host="127.0.0.1", sender=SENDER, security="none", username="u", password="p")
    SmtpConfig(host="localhost", sender=SENDER, security="none", username="u", password="p")


@pytest.mark.parametrize(
    "overrides",
    [
        {"username": "only-a-user"},
        {"password": "only-a-password"},
        {"security": "ssl"},
        {"sender": "not an address"},
        {"sender": "a@example.com, b@example.com"},
        {"timeout": 0},
    ],
)
def test_a_bad_smtp_configuration_is_refused_at_start(overrides):
    with pytest.raises(ValueError):
        SmtpConfig(**({"host": "smtp.example.com", "sender": SENDER} | overrides))


def test_the_smtp_password_stays_out_of_the_configurations_repr():
    config = SmtpConfig(host="smtp.example.com", sender=SENDER, username="u", password=SMTP_PASSWORD)

    assert SMTP_PASSWORD not in repr(config)
