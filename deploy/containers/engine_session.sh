# shellcheck shell=bash
# Sourced by the scripts that need a Docker engine while they run (test-containers.sh,
# test-compose.sh), after they set ENGINE (the path of engine.sh):
#
#   engine_for_this_run NAME   use the engine that answers, or start one; on exit, whatever
#                              the outcome, stop it again only if this run started it
#
# NAME prefixes the message when the engine cannot be stopped.

engine_for_this_run() {
    _engine_user="$1"
    _engine_started=0
    trap _engine_stop_if_ours EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if ! "$ENGINE" status; then
        _engine_started=1
        "$ENGINE" start
    fi
}

# shellcheck disable=SC2317 # run by the EXIT trap
_engine_stop_if_ours() {
    if ((_engine_started)); then
        "$ENGINE" stop || echo "$_engine_user: could not stop the Docker engine" >&2
    fi
}
