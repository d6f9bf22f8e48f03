#!/usr/bin/env bash
# The compose stack's secrets, one file each, in a git-ignored directory (never in the
# compose file): deploy/compose/secrets/ by default, $AIORCH_COMPOSE_SECRETS otherwise.
#
#   deploy/compose/secrets.sh          make the missing ones (never replaces one: the
#                                      database's data was made with them)
#
#   postgres-password            the PostgreSQL superuser's (provisioning only)
#   {identity,chat,orchestrator}-db-password   each service's own database role
#   metrics-token                bearer token a /metrics scrape must send
#   admin-password               identity's first admin (AIORCH_ADMIN_EMAIL, default
#                                admin@aiorch.localhost); AIORCH_ADMIN_PASSWORD, when
#                                set, is written instead of a random one
#   model-seal-key.json          seals AI-model API keys travelling from orchestrator to chat
#
# The directory is 0700. The services run as uid 10001 and the files they read are
# given to it (mode 0400) when this runs as root; otherwise, and for PostgreSQL's (whose
# uid differs between images), they are 0644 inside the private directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${AIORCH_COMPOSE_SECRETS:-$ROOT/deploy/compose/secrets}"
SERVICE_UID=10001

random() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n'; }

seal_key() {
    local id key
    id="$(date -u +%Y%m%d)-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    key="$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
    printf '{"current": "%s", "keys": {"%s": "%s"}}\n' "$id" "$id" "$key"
}

# name [value]: write the file unless it exists
make_secret() {
    local path="$DIR/$1"
    [[ -s "$path" ]] && return 0
    umask 077
    if [[ "$1" == model-seal-key.json ]]; then
        seal_key >"$path.tmp"
    else
        printf '%s\n' "${2:-$(random)}" >"$path.tmp"
    fi
    mv "$path.tmp" "$path"
    echo "secrets: made $1" >&2
}

# Who may read each file: the services' uid where we can give it, else everyone
# (the 0700 directory is the fence on the host).
own() {
    local name="$1" path="$DIR/$1"
    if [[ "$name" != postgres-password && "$(id -u)" == 0 ]]; then
        chown "$SERVICE_UID:$SERVICE_UID" "$path"
        chmod 0400 "$path"
    else
        chmod 0644 "$path"
    fi
}

mkdir -p "$DIR"
chmod 0700 "$DIR"
for name in postgres-password identity-db-password chat-db-password orchestrator-db-password \
    metrics-token model-seal-key.json; do
    make_secret "$name"
    own "$name"
done
make_secret admin-password "${AIORCH_ADMIN_PASSWORD:-}"
own admin-password
