#!/usr/bin/env bash
# `make test-compose`: the black-box system tests against the compose stack.
#
#   deploy/compose/test-compose.sh [pytest args]   (default: the tests in BLACK_BOX below)
#
# Brings up a Docker engine where none answers (engine.sh), builds the service image
# and the local PostgreSQL and NATS images (build-images.sh; skipped when up to date),
# then runs pytest with AIORCH_SYSTEM_TARGET=compose: each test's `cluster` is a compose
# stack of its own, brought up with compose.sh as `make compose-up` does and removed
# with its volumes after the test (tests/system/compose_target.py). Stops the engine
# again if it started it, whatever pytest's outcome. Exits with pytest's exit code.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ENGINE="$ROOT/deploy/containers/engine.sh"
cd "$ROOT"

# The system tests that drive the system only over HTTP, NATS and PostgreSQL (and kill
# processes by pid, which a container's restart policy answers as the supervisor does);
# not those about the local runner itself (lifecycle, recovery, logs, the browser pages).
# test_revocation_everywhere is left out: its last step kills chat's API and revokes
# while it is down, counting on the local supervisor's 1 s restart back-off; Docker
# restarts a container after 100 ms, before the revocation (its earlier steps pass).
BLACK_BOX=(
    tests/system/test_walking_skeleton.py
    tests/system/test_chat_flow.py
    tests/system/test_orchestrator_flow.py
    tests/system/test_identity_tokens.py
)

# shellcheck source=deploy/containers/engine_session.sh
. "$ROOT/deploy/containers/engine_session.sh"
engine_for_this_run test-compose
started=$SECONDS
"$ROOT/deploy/containers/build-images.sh" nats postgres service
echo "test-compose: images ready in $((SECONDS - started)) s; aiorch/service:local is" \
    "$(docker image inspect --format '{{.Size}}' aiorch/service:local | awk '{printf "%.0f MB", $1 / 1e6}')" >&2

export AIORCH_SYSTEM_TARGET=compose
export TESTCONTAINERS_RYUK_DISABLED=true

if (($# == 0)); then
    set -- "${BLACK_BOX[@]}"
fi
rc=0
"$ROOT/.venv/bin/pytest" -rA "$@" || rc=$?
exit "$rc"
