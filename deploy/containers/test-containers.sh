#!/usr/bin/env bash
# `make test-containers`: the integration and system tests on Testcontainers, with
# images built here (no registry needed).
#
#   deploy/containers/test-containers.sh [pytest args]   (default: -m "integration or system")
#
# Brings up a Docker engine where none answers (engine.sh), builds the local
# PostgreSQL and NATS images (build-images.sh), runs pytest with the containers
# provider forced, and stops the engine again if it started it, whatever pytest's
# outcome. Exits with pytest's exit code.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ENGINE="$ROOT/deploy/containers/engine.sh"
cd "$ROOT"

# shellcheck source=deploy/containers/engine_session.sh
. "$ROOT/deploy/containers/engine_session.sh"
engine_for_this_run test-containers
"$ROOT/deploy/containers/build-images.sh"

export AIORCH_TEST_SERVERS=containers
export AIORCH_POSTGRES_IMAGE=aiorch/postgres:local
export AIORCH_NATS_IMAGE=aiorch/nats:local
export TESTCONTAINERS_RYUK_DISABLED=true

if (($# == 0)); then
    set -- -m "integration or system"
fi
rc=0
"$ROOT/.venv/bin/pytest" "$@" || rc=$?
exit "$rc"
