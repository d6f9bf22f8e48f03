#!/usr/bin/env bash
# The compose stack's driver: `make compose-up`, `make compose-down`, `make test-compose`.
#
#   compose.sh up        a Docker engine (engine.sh, where none answers), the images
#                        (build-images.sh, when the local ones are used), the secrets
#                        (secrets.sh), `docker-compose up -d`, then waits until every
#                        service is healthy and every job exited 0; prints how long it took
#   compose.sh down      stops and removes the containers (the volumes stay)
#   compose.sh down -v   ... and the volumes: the data is gone
#   compose.sh ARGS...   any other docker-compose command on the same files (ps, logs -f ...)
#
# Settings (environment):
#   AIORCH_COMPOSE_NETWORK  host | bridge; default: host when the engine has no bridge
#                           network (this machine): adds compose.hostnet.yaml, else
#                           compose.ports.yaml
#   AIORCH_COMPOSE_FILES    more compose files, colon-separated (tests add their own)
#   AIORCH_COMPOSE_PROJECT  the compose project name (default aiorch)
#   AIORCH_COMPOSE_IMAGES   local | registry; local (the default where no registry is
#                           configured here) builds aiorch/{service,postgres,nats}:local and
#                           uses them; registry leaves the compose file's defaults
#   AIORCH_COMPOSE_BUILD    auto (default): rebuild the local images that are missing or out
#                           of date with this checkout; missing: only those that are missing
#                           (the system tests: test-compose.sh built them once before)
#   AIORCH_COMPOSE_UP_TIMEOUT  seconds `up` waits for health (default 300)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/compose"
CONTAINERS="$ROOT/deploy/containers"
PROJECT="${AIORCH_COMPOSE_PROJECT:-aiorch}"
UP_TIMEOUT="${AIORCH_COMPOSE_UP_TIMEOUT:-300}"

log() { echo "compose: $*" >&2; }
die() { log "$*"; exit 1; }

network() {
    if [[ -n "${AIORCH_COMPOSE_NETWORK:-}" ]]; then
        echo "$AIORCH_COMPOSE_NETWORK"
    elif docker network inspect bridge >/dev/null 2>&1; then
        echo bridge
    else
        echo host
    fi
}

compose_command() {
    command -v docker-compose >/dev/null 2>&1 && { echo docker-compose; return; }
    docker compose version >/dev/null 2>&1 && { echo "docker compose"; return; }
    die "neither docker-compose nor the docker compose plugin is installed (apt-get install docker-compose)"
}

# Debian's docker-compose where neither it nor the plugin is there (as engine.sh installs docker.io).
ensure_compose() {
    command -v docker-compose >/dev/null 2>&1 && return 0
    docker compose version >/dev/null 2>&1 && return 0
    [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1 ||
        die "docker-compose is missing (apt-get install docker-compose, or the docker compose plugin)"
    log "installing docker-compose from Debian"
    local logfile
    logfile="$(mktemp)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends docker-compose; } >"$logfile" 2>&1; then
        tail -n 20 "$logfile" >&2
        die "apt-get install docker-compose failed"
    fi
    rm -f "$logfile"
}

files=(-f "$HERE/compose.yaml")

compose() {
    # shellcheck disable=SC2046 # the command may be two words
    $(compose_command) --project-name "$PROJECT" --project-directory "$HERE" "${files[@]}" "$@"
}

setup_files() {
    if [[ "$(network)" == host ]]; then
        files+=(-f "$HERE/compose.hostnet.yaml")
    else
        files+=(-f "$HERE/compose.ports.yaml")
    fi
    local extra
    IFS=: read -r -a extra <<<"${AIORCH_COMPOSE_FILES:-}"
    for f in "${extra[@]}"; do
        [[ -n "$f" ]] && files+=(-f "$f")
    done
    return 0
}

use_local_images() {
    [[ "${AIORCH_COMPOSE_IMAGES:-local}" == local ]] || return 0
    case "${AIORCH_COMPOSE_BUILD:-auto}" in
        auto) "$CONTAINERS/build-images.sh" nats postgres service ;;
        missing)
            local image wanted=()
            for image in nats postgres service; do
                docker image inspect "aiorch/$image:local" >/dev/null 2>&1 || wanted+=("$image")
            done
            if ((${#wanted[@]})); then "$CONTAINERS/build-images.sh" "${wanted[@]}"; fi
            ;;
        *) die "AIORCH_COMPOSE_BUILD is auto or missing, not ${AIORCH_COMPOSE_BUILD}" ;;
    esac
    export AIORCH_SERVICE_IMAGE="${AIORCH_SERVICE_IMAGE:-aiorch/service:local}"
    export AIORCH_POSTGRES_IMAGE="${AIORCH_POSTGRES_IMAGE:-aiorch/postgres:local}"
    export AIORCH_NATS_IMAGE="${AIORCH_NATS_IMAGE:-aiorch/nats:local}"
}

# Each container's state: "ok" (healthy, or a job that exited 0), "wait", or "fail: why".
container_state() {
    docker inspect --format \
        '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{index .Config.Labels "com.docker.compose.service"}}' \
        "$@"
}

wait_healthy() {
    local deadline=$((SECONDS + UP_TIMEOUT)) ids pending name status code health service
    while true; do
        mapfile -t ids < <(compose ps -q)
        ((${#ids[@]})) || die "no containers after up"
        pending=()
        while read -r name status code health service; do
            case "$status/$health" in
                running/healthy) ;;
                exited/*)
                    if [[ "$code" != 0 ]]; then
                        log "$service exited with code $code; its last lines:"
                        compose logs --no-color --tail 30 "$service" >&2 || true
                        return 1
                    fi
                    ;;
                running/none) ;;
                *) pending+=("$service:$status/$health") ;;
            esac
        done < <(container_state "${ids[@]}")
        ((${#pending[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            log "not healthy after ${UP_TIMEOUT}s: ${pending[*]}"
            return 1
        fi
        sleep 0.5
    done
}

up() {
    "$CONTAINERS/engine.sh" start
    ensure_compose
    use_local_images
    "$HERE/secrets.sh"
    setup_files
    local started=$SECONDS
    log "starting project $PROJECT ($(network) network)"
    # the containers' own output, for a failure: compose logs
    compose up -d --remove-orphans >&2
    wait_healthy
    log "every service is healthy ($((SECONDS - started)) s after up)"
}

case "${1:-}" in
    up) shift; up "$@" ;;
    "") echo "usage: $0 up | down [-v] | DOCKER-COMPOSE-ARGS..." >&2; exit 2 ;;
    *)
        "$CONTAINERS/engine.sh" status || die "no Docker engine answers"
        [[ "${AIORCH_COMPOSE_IMAGES:-local}" == local ]] && {
            export AIORCH_SERVICE_IMAGE="${AIORCH_SERVICE_IMAGE:-aiorch/service:local}"
            export AIORCH_POSTGRES_IMAGE="${AIORCH_POSTGRES_IMAGE:-aiorch/postgres:local}"
            export AIORCH_NATS_IMAGE="${AIORCH_NATS_IMAGE:-aiorch/nats:local}"
        }
        # the secrets' paths must resolve even to take the stack down
        [[ -d "${AIORCH_COMPOSE_SECRETS:-$HERE/secrets}" ]] || "$HERE/secrets.sh"
        setup_files
        compose "$@"
        ;;
esac
