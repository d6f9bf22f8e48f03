"""The messages identity sends: plain, friendly, no tracking, the token only inside its link."""

import re
from typing import Any

import pytest

from identity.application.mail import OutgoingMail, password_reset_mail, verify_email_mail

TOKEN = "Zq9xLmNpQrStUvWxYz0123456789abcdEFGhijKLMno"
RESET_URL = f"https://aiorch.example.com/reset-password#token={TOKEN}"
VERIFY_URL = f"https://aiorch.example.com/verify-email?token={TOKEN}&lang=en"


def builders() -> list[Any]:
    return [
        pytest.param(lambda: password_reset_mail("bob@example.com", RESET_URL, 15), RESET_URL, id="reset"),
        pytest.param(lambda: verify_email_mail("bob@example.com", VERIFY_URL, 15), VERIFY_URL, id="verify"),
    ]


def test_a_reset_mail_says_what_happened_how_long_the_link_lives_and_what_to_do_if_unasked():
    mail = password_reset_mail("bob@example.com", RESET_URL, 15)

    assert mail.to == "bob@example.com"
    assert mail.subject == "Reset your aiorch password"
    assert RESET_URL in mail.text
    assert "15 minutes" in mail.text
    assert "works once" in mail.text
    assert "did not ask for this" in mail.text


def test_a_verification_mail_carries_its_link_and_expiry():
    mail = verify_email_mail("bob@example.com", VERIFY_URL, expires_in_minutes=60)

    assert mail.subject == "Confirm your email address for aiorch"
    assert VERIFY_URL in mail.text
    assert "60 minutes" in mail.text
    assert "did not create" in mail.text


def test_one_minute_is_singular():
    assert "expires in 1 minute." in password_reset_mail("bob@example.com", RESET_URL, 1).text


@pytest.mark.parametrize(("build", "url"), builders())
def test_the_token_appears_only_inside_the_link(build, url):
    mail = build()
    assert mail.html is not None
    escaped_url = url.replace("&", "&amp;")

    assert TOKEN not in mail.subject
    assert TOKEN not in mail.text.replace(url, "")
    assert TOKEN not in mail.html.replace(escaped_url, "")


@pytest.mark.parametrize(("build", "url"), builders())
def test_the_html_links_to_nothing_but_the_action_and_loads_nothing(build, url):
    html = build().html
    escaped_url = url.replace("&", "&amp;")

    assert re.findall(r'href="([^"]*)"', html) == [escaped_url]
    assert re.search(r"<(img|script|link|iframe|style)\b|src=", html, re.IGNORECASE) is None
    assert html.count("http") == html.count(escaped_url)


def test_the_link_is_escaped_in_the_html():
    mail = password_reset_mail("bob@example.com", 'https://x.example/r?a=1&b="><script>', 15)

    assert mail.html is not None
    assert "<script>" not in mail.html
    assert 'href="https://x.example/r?a=1&amp;b=&quot;&gt;&lt;script&gt;"' in mail.html


@pytest.mark.parametrize(
    "url",
    [
        "/reset-password#token=abc",
        "javascript:alert(1)",
        "ftp://x.example/t",
        "https:///no-host",
        "https://x y/",
    ],
)
def test_a_link_must_be_an_absolute_http_url(url):
    with pytest.raises(ValueError, match="absolute"):
        password_reset_mail("bob@example.com", url, 15)
    with pytest.raises(ValueError, match="absolute"):
        verify_email_mail("bob@example.com", url)


def test_a_link_must_live_at_least_a_minute():
    with pytest.raises(ValueError, match="minute"):
        password_reset_mail("bob@example.com", RESET_URL, 0)


@pytest.mark.parametrize(
    "to", ["bob@example.com\r\nBcc: eve@example.com", "no-at-sign", "bob@example.com eve@example.com"]
)
def test_a_message_goes_to_one_bare_address(to):
    with pytest.raises(ValueError, match="recipient"):
        OutgoingMail(to=to, subject="s", text="t")


def test_a_subject_is_one_line():
    with pytest.raises(ValueError, match="single line"):
        OutgoingMail(to="bob@example.com", subject="hi\nBcc: eve@example.com", text="t")


def test_a_message_is_immutable():
    mail = password_reset_mail("bob@example.com", RESET_URL, 15)

    with pytest.raises(AttributeError):
        mail.to = "eve@example.com"  # type: ignore[misc]
