"""``aiorch-orchestrator`` (also ``python -m orchestrator``).

The commands every service has (migrate | api | worker | dead-letters) come from
``shared.cli``; orchestrator adds its own:

* ``rotate-model-keys``: a new current key in ``ORCHESTRATOR_MODEL_KEYS_FILE``, and every
  stored AI-model API key re-encrypted under it in one transaction; prints the counts.
  Running API processes pick the new key up on the first value that names it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from orchestrator import SERVICE
from orchestrator.bootstrap import ROOT, ROTATION_ERRORS, run_rotate_model_keys
from shared.cli import EXIT_USAGE, build_parser, run, service_commands
from shared.logging import configure_logging
from shared.settings import SettingsError

OWN_COMMANDS = {"rotate-model-keys": "re-encrypt every stored AI-model API key under a new key"}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(build_parser(SERVICE).format_help())
        print("orchestrator's own commands:")
        for name, help_text in OWN_COMMANDS.items():
            print(f"  {name:<20} {help_text}")
        return 0
    if args[:1] != ["rotate-model-keys"]:
        return run(service_commands(ROOT), args)
    if len(args) > 1:
        print(f"aiorch-{SERVICE} rotate-model-keys: takes no arguments", file=sys.stderr)
        return EXIT_USAGE
    return _rotate_model_keys()


def _rotate_model_keys() -> int:
    try:
        settings = ROOT.load_settings()
    except SettingsError as exc:
        print(f"aiorch-{SERVICE}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(SERVICE, settings.log_level)
    try:
        rotation = asyncio.run(run_rotate_model_keys(settings))
    except ROTATION_ERRORS as exc:
        print(f"aiorch-{SERVICE}: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return 1
    print(f"new model key {rotation.key_id} in {settings.model_keys_file}")
    print(f"re-encrypted {rotation.reencrypted} API key(s) under it")
    return 0
