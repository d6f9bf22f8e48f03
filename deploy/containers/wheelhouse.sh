#!/usr/bin/env bash
# The wheels the service image installs: shared and the three services built from
# this checkout, and every dependency they need at run time, pinned by
# constraints.txt. No test or dev tools (no extras), no llama-cpp (the local model
# is not part of the image: the offline model is the default).
#
#   deploy/containers/wheelhouse.sh DIR
#
# DIR is emptied first; it ends with DIR/aiorch (the four projects, built from the
# working tree as it is now) and DIR/deps (the rest, from pip's cache or its index).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="${AIORCH_WHEEL_PYTHON:-$ROOT/.venv/bin/python}"
DIR="${1:?usage: $0 DIR}"

rm -rf "$DIR"
mkdir -p "$DIR"
# setuptools writes build/ and *.egg-info beside the sources; build from a copy so the
# checkout (and other builds running from it) is left as it was.
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
for project in shared services/identity services/chat services/orchestrator; do
    mkdir -p "$src/$project"
    (cd "$ROOT/$project" && git ls-files -z -- pyproject.toml src ':!:*.egg-info/*' |
        xargs -0 cp --parents -t "$src/$project")
done
"$PY" -m pip wheel --disable-pip-version-check --progress-bar off \
    -c "$ROOT/constraints.txt" --wheel-dir "$DIR" \
    "$src/shared" "$src/services/identity" "$src/services/chat" "$src/services/orchestrator"
# pip wheel also leaves the build back-end's wheels (setuptools) when it fetched them.
find "$DIR" -maxdepth 1 -name 'setuptools-*.whl' -delete
# Ours apart from the dependencies: the image installs these in a layer of their own,
# so a change to the code alone rebuilds only the small one.
mkdir -p "$DIR/deps" "$DIR/aiorch"
mv "$DIR"/aiorch_*.whl "$DIR/aiorch/"
mv "$DIR"/*.whl "$DIR/deps/"
ls "$DIR"/*
