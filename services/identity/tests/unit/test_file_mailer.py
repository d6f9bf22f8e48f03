"""FileMailer: each message an RFC 5322 .eml file, owner-only, named in time order, written atomically."""

import os
import re
import stat
from datetime import UTC, datetime, timedelta, timezone
from email.parser import BytesParser
from email.policy import default
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from aiorch_devkit.testing.fakes import FixedClock
from identity.adapters.mail.file_mailer import FileMailer
from identity.application.mail import MailDeliveryError, OutgoingMail, password_reset_mail, verify_email_mail

TOKEN = "Zq9xLmNpQrStUvWxYz0123456789abcdEFGhijKLMno"
RESET_URL = f"https://aiorch.example.com/reset-password#token={TOKEN}"
SENDER = "aiorch <no-reply@aiorch.localhost>"
NOW = datetime(2026, 11, 23, 10, 15, 0, 123456, tzinfo=UTC)
NAME = re.compile(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{32}@aiorch\.localhost\.eml")


def emls(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.suffix == ".eml")


async def test_a_message_becomes_one_parseable_eml_file(tmp_path):
    mailer = FileMailer(tmp_path / "mail", sender=SENDER, clock=FixedClock(NOW))

    await mailer.send(password_reset_mail("bob@example.com", RESET_URL, 15))

    [name] = emls(tmp_path / "mail")
    assert NAME.fullmatch(name)
    assert name.startswith("20261123T101500.123456Z-")
    message = BytesParser(policy=default).parsebytes((tmp_path / "mail" / name).read_bytes())
    assert message["From"] == SENDER
    assert message["To"] == "bob@example.com"
    assert message["Subject"] == "Reset your aiorch password"
    assert parsedate_to_datetime(message["Date"]) == NOW.replace(microsecond=0)
    assert name.endswith(f"-{message['Message-ID'].strip('<>')}.eml")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    assert RESET_URL in text.get_content()
    assert message.defects == []


async def test_the_link_can_be_copied_straight_from_the_file(tmp_path):
    await FileMailer(tmp_path, sender=SENDER).send(password_reset_mail("bob@example.com", RESET_URL, 15))

    [name] = emls(tmp_path)
    assert RESET_URL.encode() in (tmp_path / name).read_bytes()


async def test_a_text_only_message_is_a_single_part(tmp_path):
    await FileMailer(tmp_path, sender=SENDER).send(
        OutgoingMail(to="bob@example.com", subject="Hi", text="Grüße")
    )

    [name] = emls(tmp_path)
    message = BytesParser(policy=default).parsebytes((tmp_path / name).read_bytes())
    assert message.get_content_type() == "text/plain"
    assert message.get_content().splitlines() == ["Grüße"]
    assert b"\r\n" in (tmp_path / name).read_bytes()  # RFC 5322 line endings, as on the wire


async def test_only_the_owner_can_read_a_mail_whatever_the_umask(tmp_path):
    previous = os.umask(0)
    try:
        await FileMailer(tmp_path / "mail", sender=SENDER).send(
            password_reset_mail("bob@example.com", RESET_URL, 15)
        )
    finally:
        os.umask(previous)

    [name] = emls(tmp_path / "mail")
    assert stat.S_IMODE((tmp_path / "mail" / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "mail").stat().st_mode) == 0o700


async def test_names_sort_in_the_order_the_mails_were_sent(tmp_path):
    clock = FixedClock(NOW)
    mailer = FileMailer(tmp_path, sender=SENDER, clock=clock)
    steps = [
        timedelta(microseconds=1),
        timedelta(seconds=1),
        timedelta(days=40),
        timedelta(microseconds=999_999),
    ]
    subjects = []
    for i, step in enumerate([timedelta(0), *steps]):
        clock.current += step
        subjects.append(f"mail {i}")
        await mailer.send(OutgoingMail(to="bob@example.com", subject=subjects[-1], text="t"))

    parser = BytesParser(policy=default)
    in_name_order = [parser.parsebytes((tmp_path / name).read_bytes())["Subject"] for name in emls(tmp_path)]
    assert in_name_order == subjects


async def test_names_are_in_utc_whatever_the_clocks_zone(tmp_path):
    paris = timezone(timedelta(hours=1))
    mailer = FileMailer(
        tmp_path, sender=SENDER, clock=FixedClock(datetime(2026, 11, 23, 11, 15, tzinfo=paris))
    )

    await mailer.send(OutgoingMail(to="bob@example.com", subject="s", text="t"))

    [name] = emls(tmp_path)
    assert name.startswith("20261123T101500.000000Z-")


async def test_two_mails_in_the_same_instant_are_two_files(tmp_path):
    mailer = FileMailer(tmp_path, sender=SENDER, clock=FixedClock(NOW))

    await mailer.send(password_reset_mail("bob@example.com", RESET_URL, 15))
    await mailer.send(verify_email_mail("bob@example.com", RESET_URL))

    assert len(emls(tmp_path)) == 2


async def test_nothing_but_finished_mails_is_left_in_the_directory(tmp_path):
    mailer = FileMailer(tmp_path, sender=SENDER)

    for _ in range(3):
        await mailer.send(password_reset_mail("bob@example.com", RESET_URL, 15))

    assert sorted(path.name for path in tmp_path.iterdir()) == emls(tmp_path)


async def test_a_directory_that_cannot_be_written_is_a_delivery_error(tmp_path):
    blocker = tmp_path / "mail"
    blocker.write_text("a file where the directory should be")

    with pytest.raises(MailDeliveryError):
        await FileMailer(blocker, sender=SENDER).send(password_reset_mail("bob@example.com", RESET_URL, 15))


async def test_the_log_names_the_domain_and_the_message_never_the_token(tmp_path):
    with capture_logs() as logs:
        await FileMailer(tmp_path, sender=SENDER).send(password_reset_mail("bob@example.com", RESET_URL, 15))

    [written] = [entry for entry in logs if entry["event"] == "mail.written"]
    assert written["recipient_domain"] == "example.com"
    assert written["file"] == emls(tmp_path)[0]
    assert TOKEN not in repr(logs)
    assert "bob@" not in repr(logs)


def test_the_sender_must_be_one_mailbox(tmp_path):
    with pytest.raises(ValueError, match="sender"):
        FileMailer(tmp_path, sender="nobody")
