"""The service image's HEALTHCHECK: asks the process the container runs whether it is ready.

Which process that is, is read from PID 1's command line (the entrypoint ``exec``s
the command, so PID 1 is ``aiorch-<service> api|worker``), so one image and one
``HEALTHCHECK`` serve every service and role:

* ``api``: ``GET /health/ready`` on ``<SERVICE>_HTTP_PORT`` (200: healthy);
* ``worker``: ``GET /health/ready`` on ``<SERVICE>_WORKER_METRICS_PORT``; a worker whose
  endpoint serves only ``/metrics`` (a 404 there) counts as healthy when it answers,
  and one with no metrics port has nothing to ask (healthy while it runs);
* anything else (``migrate``, a shell): healthy; one-shot jobs are judged by their exit code.

Standard library only, run with ``python -I -S``: it starts in a few hundredths of a second.
"""

from __future__ import annotations

import http.client
import os
import sys
from pathlib import Path

TIMEOUT_S = 3.0
DEFAULT_PORTS = {"identity": 8001, "chat": 8002, "orchestrator": 8003}


def what_runs(cmdline: bytes) -> tuple[str, str] | None:
    """(service, role) of ``.../aiorch-<service> <role>``, else None."""
    args = [a.decode(errors="replace") for a in cmdline.split(b"\0") if a]
    for i, arg in enumerate(args):
        name = os.path.basename(arg)
        if name.startswith("aiorch-") and i + 1 < len(args):
            return name.removeprefix("aiorch-"), args[i + 1]
    return None


def ready(port: int, *, not_found_is_ready: bool) -> tuple[bool, str]:
    host = os.environ.get("AIORCH_HEALTH_HOST", "127.0.0.1")
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    try:
        connection.request("GET", "/health/ready")
        answer = connection.getresponse()
        body = answer.read(300).decode(errors="replace")
    except OSError as exc:
        return False, f"{host}:{port}: {exc}"
    finally:
        connection.close()
    if answer.status == 200 or (answer.status == 404 and not_found_is_ready):
        return True, f"{answer.status}"
    return False, f"{answer.status}: {body}"


def main() -> int:
    running = what_runs(Path("/proc/1/cmdline").read_bytes())
    if running is None:
        return 0
    service, role = running
    prefix = f"{service.upper()}_"
    if role == "api":
        port = int(os.environ.get(f"{prefix}HTTP_PORT") or DEFAULT_PORTS.get(service, 0))
        ok, detail = ready(port, not_found_is_ready=False)
    elif role == "worker":
        metrics_port = os.environ.get(f"{prefix}WORKER_METRICS_PORT")
        if not metrics_port:
            return 0
        ok, detail = ready(int(metrics_port), not_found_is_ready=True)
    else:
        return 0
    print(f"{service} {role}: {detail}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
