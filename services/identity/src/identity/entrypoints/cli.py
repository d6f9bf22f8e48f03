"""``aiorch-identity`` (also ``python -m identity``).

The commands every service has (migrate | api | worker | dead-letters) come from
``shared.cli``; identity adds its own:

* ``rotate-keys [--overlap SECONDS] [--publish-ahead SECONDS]``: a new signing key,
  published at once but signing only after the publish-ahead time
  (``IDENTITY_KEY_PUBLISH_AHEAD_S`` by default; 0: at once), so verifiers hold it before
  its first token; the key it takes over from stays published for the overlap
  (``IDENTITY_KEY_ROTATION_OVERLAP_S`` by default). Running API workers pick the new key
  up on their next use and switch to it by the clock.
* ``create-admin --email E [--name N] [--password-stdin]``: an admin account, or the
  existing account with that address promoted to admin. The password is read from stdin
  (one line) or asked for twice on the terminal: never from the command line, where
  other users and the shell history would see it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from datetime import timedelta

from identity import SERVICE
from identity.application.admins import CreateAdmin
from identity.application.keys import RotateKeys
from identity.application.ports import KeyStoreError
from identity.bootstrap import ROOT, run_create_admin, run_rotate_keys
from identity.settings import KeyRingSettings, Settings
from shared.cli import EXIT_USAGE, build_parser, run, service_commands
from shared.kernel.errors import DomainError
from shared.logging import configure_logging
from shared.service_settings import env_prefix
from shared.settings import SettingsError, load_settings

OWN_COMMANDS = ("rotate-keys", "create-admin")


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"aiorch-{SERVICE}", description="identity's own commands.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rotate = commands.add_parser("rotate-keys", help="make a new signing key; keep the old one published")
    rotate.add_argument(
        "--overlap", type=_seconds, metavar="SECONDS", help="seconds the previous key stays published"
    )
    rotate.add_argument(
        "--publish-ahead",
        type=_seconds,
        metavar="SECONDS",
        help="seconds the new key is published before it signs (0: it signs at once)",
    )
    admin = commands.add_parser("create-admin", help="create an admin account, or promote an existing one")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(build_parser(SERVICE).format_help())
        print(parser().format_help())
        return 0
    if not args or args[0] not in OWN_COMMANDS:
        return run(service_commands(ROOT), args)
    options = parser().parse_args(args)
    try:
        if options.command == "rotate-keys":
            return _rotate_keys(options.overlap, options.publish_ahead)
        return _create_admin(options.email, options.name, options.password_stdin)
    except SettingsError as exc:
        print(f"aiorch-{SERVICE}: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _seconds(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}")
    return int(text)


def _rotate_keys(overlap: int | None, publish_ahead: int | None) -> int:
    settings = load_settings(KeyRingSettings, prefix=env_prefix(SERVICE))
    if settings.signing_key_pem.strip():
        print(
            f"aiorch-{SERVICE}: the signing key comes from IDENTITY_SIGNING_KEY_PEM; rotate it by changing "
            "that variable (keep the old key in IDENTITY_PREVIOUS_SIGNING_KEYS_PEM for the overlap)",
            file=sys.stderr,
        )
        return 1
    try:
        # 0 is a choice for both (retire at once, switch at once: a compromised key), not "unset"
        command = RotateKeys(
            overlap=timedelta(seconds=settings.key_rotation_overlap_s if overlap is None else overlap),
            publish_ahead=timedelta(
                seconds=settings.key_publish_ahead_s if publish_ahead is None else publish_ahead
            ),
        )
        rotation = run_rotate_keys(settings, command)
    except (KeyStoreError, OSError) as exc:
        print(f"aiorch-{SERVICE}: {exc}", file=sys.stderr)
        return 1
    print(f"new signing key {rotation.new_kid} (previous {rotation.previous_kid})")
    print(f"signs from {rotation.activates_at.isoformat(timespec='seconds')}")
    print(f"published: {', '.join(rotation.published)}")
    if rotation.retired:
        print(f"retired: {', '.join(rotation.retired)}")
    return 0


def _create_admin(email: str, name: str | None, from_stdin: bool) -> int:
    settings: Settings = ROOT.load_settings()
    configure_logging(SERVICE, settings.log_level)
    password = _password(from_stdin)
    if password is None:
        print(f"aiorch-{SERVICE}: the passwords did not match", file=sys.stderr)
        return 1
    try:
        user, created = asyncio.run(
            run_create_admin(settings, CreateAdmin(email=email, name=name, password=password))
        )
    except DomainError as exc:
        print(f"aiorch-{SERVICE}: {exc.detail}", file=sys.stderr)
        return 1
    verb = "created admin" if created else "made admin: existing account"
    print(f"{verb} {user.email} ({user.id})")
    return 0


def _password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    return first if getpass.getpass("Again: ") == first else None
