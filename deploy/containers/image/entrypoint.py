"""The service image's entrypoint: secrets from files into the environment, then ``exec`` the command.

Every file in ``$AIORCH_SECRETS_DIR`` (default ``/run/secrets``, where compose and
Kubernetes mount secrets) whose name is an environment variable's (``PGPASSWORD``,
``AIORCH_METRICS_TOKEN``...) sets that variable, so no secret is written in a compose
file or a pod spec. Files named otherwise (``model-seal-key.json``) are left for the
settings that name them by path. A variable set both ways is refused: which one would
win is a question nobody should have to ask.

Then the process *becomes* the command (``os.execvp``): no shell and no parent stay in
between, so SIGTERM from the engine reaches Python's own handlers (uvicorn's graceful
shutdown, the worker's drain) directly. Standard library only.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

SECRETS_DIR = "/run/secrets"
VARIABLE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
EXIT_USAGE = 2


def secrets_from(directory: Path) -> dict[str, str]:
    """Variable name → value, from the files in ``directory`` named as variables."""
    if not directory.is_dir():
        return {}
    found = {}
    for path in sorted(directory.iterdir()):
        if VARIABLE.match(path.name) and path.is_file():
            # a trailing newline is the editor's, never the secret's
            found[path.name] = path.read_text(encoding="utf-8").rstrip("\r\n")
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: entrypoint COMMAND [ARG...]  (e.g. aiorch-chat api)", file=sys.stderr)
        return EXIT_USAGE
    directory = Path(os.environ.get("AIORCH_SECRETS_DIR", SECRETS_DIR))
    try:
        found = secrets_from(directory)
    except OSError as exc:
        print(f"entrypoint: cannot read the secrets in {directory}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    both = sorted(name for name in found if os.environ.get(name))
    if both:
        print(
            f"entrypoint: {', '.join(both)} set both in the environment and as a file in {directory}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    os.environ.update(found)
    try:
        os.execvp(argv[0], argv)  # noqa: S606 - the point: no shell, the command replaces us
    except OSError as exc:
        print(f"entrypoint: cannot run {argv[0]}: {exc.strerror}", file=sys.stderr)
        return 127
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
