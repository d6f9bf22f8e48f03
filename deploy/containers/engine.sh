#!/usr/bin/env bash
# A Docker engine for the Testcontainers test path, where none runs.
#
#   engine.sh start    use the engine that answers, or install Debian's docker.io
#                      (if missing) and start `dockerd --bridge=none --iptables=false`
#   engine.sh stop     stop the engine that `start` started (never one it found)
#   engine.sh status   exit 0 when a Docker engine answers
#
# The engine we start has no bridge and touches no iptables rules or sysctls:
# containers run with host networking only, so every connection stays on
# 127.0.0.1. Its state (log, pid, image store) lives under $AIORCH_DOCKER_STATE
# (default: .cluster/docker in the repo); the API socket is the default
# /var/run/docker.sock so the docker CLI and the Python SDK find it unaided.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${AIORCH_DOCKER_STATE:-$ROOT/.cluster/docker}"
PID_FILE="$STATE/dockerd.pid"       # written only for an engine we started
LOG_FILE="$STATE/dockerd.log"
START_TIMEOUT="${AIORCH_DOCKER_START_TIMEOUT:-60}"

log() { echo "engine: $*" >&2; }

engine_answers() {
    timeout 10 docker info >/dev/null 2>&1
}

# The pid of the engine we started, if it still runs.
our_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == dockerd ]] || return 1
    echo "$pid"
}

apt_install() {
    # Keep the packages' init scripts from starting a default (bridged) dockerd.
    local policy=/usr/sbin/policy-rc.d added=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        added=1
    fi
    local rc=0
    {
        apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
    } >"$STATE/apt.log" 2>&1 || rc=$?
    if ((added)); then rm -f "$policy"; fi
    if ((rc)); then
        log "apt-get install $* failed (see $STATE/apt.log)"
        tail -n 20 "$STATE/apt.log" >&2
        return "$rc"
    fi
}

start() {
    mkdir -p "$STATE"
    if engine_answers; then
        # Ours from an earlier `start`, or someone else's: either way, leave it be.
        our_pid >/dev/null || rm -f "$PID_FILE"
        return 0
    fi
    rm -f "$PID_FILE"
    if ! command -v dockerd >/dev/null 2>&1; then
        [[ "$(id -u)" == 0 ]] || { log "dockerd is missing and installing it needs root"; exit 1; }
        log "installing docker.io from Debian"
        apt_install docker.io
    fi
    if [[ -S /var/run/docker.sock ]] && ! engine_answers; then
        rm -f /var/run/docker.sock  # left by an engine that died
    fi
    mkdir -p "$STATE/data"
    setsid dockerd \
        --bridge=none --iptables=false --ip6tables=false \
        --ip-forward=false --ip-masq=false \
        --data-root "$STATE/data" \
        --pidfile "$STATE/dockerd.runtime.pid" \
        --host unix:///var/run/docker.sock \
        </dev/null >>"$LOG_FILE" 2>&1 &
    local pid=$!
    echo "$pid" >"$PID_FILE"
    local deadline=$((SECONDS + START_TIMEOUT))
    until engine_answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            log "dockerd exited during start-up; last lines of $LOG_FILE:"
            tail -n 20 "$LOG_FILE" >&2
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            log "dockerd did not answer within ${START_TIMEOUT}s; stopping it (log: $LOG_FILE)"
            stop
            exit 1
        fi
        sleep 0.2
    done
}

stop() {
    local pid
    if ! pid="$(our_pid)"; then
        rm -f "$PID_FILE"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    # dockerd stops its containers (10 s grace each, in parallel) and its managed
    # containerd before it exits.
    local deadline=$((SECONDS + 45))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            log "dockerd ($pid) ignored SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            deadline=$((SECONDS + 10))
            while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
            break
        fi
        sleep 0.1
    done
    rm -f "$PID_FILE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) engine_answers ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
