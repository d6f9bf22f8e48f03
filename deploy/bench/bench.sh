#!/usr/bin/env bash
# make bench: identity's authenticated GET /api/v1/users/me, orchestrator's board read (200 tasks)
# and task move (If-Match; task, activity and outbox rows), each against a bare endpoint doing the
# same SQL on a raw asyncpg pool, in one run against one database; then logins per second; then
# chat's search over 100,000 messages (chat_search.py), 500 WebSocket streams on one chat API
# process (chat_streams.py) and posting a message against a bare asyncpg endpoint (chat_post.py):
# figures only, never failing the run.
# Prints figures, asserts nothing. See deploy/bench/README.md.
#
#   bench.sh                    both configurations: tuned, then default (below)
#   bench.sh --tuned-config     identity and orchestrator on 2 workers with their access log off
#   bench.sh --default-config   both as `make up` starts them: 1 worker, an access line per request
#
# The bare app runs on as many workers as the services in each configuration. A private cluster
# (its own state directory under /tmp, free ports) is started for each configuration and
# always stopped at the end. Output is also saved under .bench/<time>-<sha>/<configuration>/.
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/deploy/bench
PY=$REPO/.venv/bin/python
THREADS=2
CONNECTIONS=64
POOL_SIZE=32
WARMUP=${BENCH_WARMUP:-3}
DURATION=${BENCH_DURATION:-6}
# /users/me and the bare endpoint are measured in alternating rounds, so that the machine's
# drift (this VM's speed wanders by 10-20% over a minute) weighs on both alike.
ROUNDS=${BENCH_ROUNDS:-3}
LOGIN_CONNECTIONS=${BENCH_LOGIN_CONNECTIONS:-8}
BOARD_TASKS=${BENCH_BOARD_TASKS:-200}
# the move runs: one wrk thread per connection, each moving a task of its own (no 412 by design)
MOVE_CONNECTIONS=${BENCH_MOVE_CONNECTIONS:-32}
# The tuned configuration: identity's access log off, as the bare app writes none (each line
# also costs the local cluster's supervisor, which copies every line of every process to its
# logs, CPU on the same two cores), on 2 workers. The default configuration leaves both to
# identity's own defaults (IDENTITY_ACCESS_LOG_SAMPLE=1, IDENTITY_HTTP_WORKERS=1), as `make up`.
TUNED_ACCESS_LOG_SAMPLE=${BENCH_ACCESS_LOG_SAMPLE:-0}
TUNED_WORKERS=${BENCH_WORKERS:-2}
DEFAULT_WORKERS=${BENCH_WORKERS:-1}
CONFIGS=(tuned default)
case ${1:-} in
    "") ;;
    --tuned-config) CONFIGS=(tuned) ;;
    --default-config) CONFIGS=(default) ;;
    *) echo "usage: bench.sh [--tuned-config | --default-config]" >&2; exit 2 ;;
esac

SHA=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
RUN_DIR=$REPO/.bench/$(date -u +%Y%m%dT%H%M%SZ)-$SHA
STATE_ROOT=
BARE_PID=
BARE_PORT=
SPY_PID=
OUT=  # the output directory of the configuration being measured
CHAT_SEARCH_OUT=  # chat_search.py's figures, printed after the summary
CHAT_STREAMS_OUT=  # chat_streams.py's and chat_post.py's, after it
CHAT_POST_OUT=

say() { printf 'bench: %s\n' "$*"; }
fail() { say "FAILED: $*" >&2; exit 1; }

ensure_wrk() {
    command -v wrk >/dev/null && return
    say "wrk is missing: installing it from Debian's packages"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || fail "wrk is missing and this is not root: apt-get install wrk"
        sudo=(sudo)
    fi
    local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk)
    "${install[@]}" >/dev/null 2>&1 || { "${sudo[@]}" apt-get update -q >/dev/null && "${install[@]}" >/dev/null; } \
        || fail "could not install wrk (apt-get install -y wrk)"
    command -v wrk >/dev/null || fail "wrk still missing after apt-get install"
}

# Nothing from the caller's environment may send the cluster to other servers or ports
# (the same rule as tests/system/conftest.py): figures are comparable run to run.
isolate_env() {
    local name
    for name in $(compgen -e); do
        case $name in
            AIORCH_* | IDENTITY_* | CHAT_* | ORCHESTRATOR_* | DATABASE_URL | NATS_URL | LOG_LEVEL | MAKEFLAGS | MAKELEVEL | MFLAGS | MAKEOVERRIDES | BENCH_BODY | BENCH_MOVES | BENCH_MOVE_PATH)
                unset "$name" ;;
        esac
    done
}

stop_bare() {
    local -  # errexit off in here only: a process that is already gone is no failure
    set +e
    if [ -n "$BARE_PID" ]; then
        local children=()
        mapfile -t children < <(pgrep -P "$BARE_PID")  # its uvicorn workers
        kill -TERM "$BARE_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$BARE_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$BARE_PID" 2>/dev/null
        local child
        for child in "${children[@]}"; do  # still ours only if it still carries our port
            grep -qzx "BARE_PORT=$BARE_PORT" "/proc/$child/environ" 2>/dev/null && kill -KILL "$child"
        done
        wait "$BARE_PID" 2>/dev/null
        BARE_PID=
    fi
}

# status: the run's exit status so far (the state directory is kept for a look on failure)
stop_cluster() {
    local -
    set +e
    local status=$1
    if [ -n "$STATE_ROOT" ]; then
        say "stopping the cluster"
        if "$PY" "$REPO/deploy/local/cluster.py" down >"$OUT/cluster-down.txt" 2>&1; then
            case $status in
                0 | 130 | 143) rm -rf "$STATE_ROOT" ;;  # done, or interrupted
                *) say "cluster state kept for a look: $STATE_ROOT (logs/ holds every process's log)" ;;
            esac
        else
            say "cluster.py down failed (state in $STATE_ROOT):"
            tail -n 20 "$OUT/cluster-down.txt"
        fi
        STATE_ROOT=
    fi
}

cleanup() {
    local status=$?
    trap '' INT TERM
    set +e
    [ -z "$SPY_PID" ] || kill "$SPY_PID" 2>/dev/null
    stop_bare
    stop_cluster "$status"
    say "output saved in ${RUN_DIR#"$REPO"/}/"
    exit "$status"
}

# Percent of the machine's CPU time busy over one second (other work skews the figures).
cpu_busy() {
    local a b i total=0
    read -r -a a < <(grep '^cpu ' /proc/stat)
    sleep 1
    read -r -a b < <(grep '^cpu ' /proc/stat)
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    local idle=$((b[4] + b[5] - a[4] - a[5]))  # idle + iowait
    echo $((total > 0 ? 100 * (total - idle) / total : 0))
}

# name threads connections url [wrk options...]: wrk's arguments for one endpoint, kept for its runs.
declare -A TARGETS MOVE_PATHS
target() {
    local name=$1 threads=$2 connections=$3 url=$4
    shift 4
    case $url in http://127.0.0.1:*) ;; *) fail "refusing to load $url: the bench stays on loopback" ;; esac
    TARGETS[$name]=$(printf '%q ' -t"$threads" -c"$connections" --timeout 10s -s "$HERE/wrk.lua" "$@" "$url")
}

# name: for a move target, where each mover is now (BENCH_MOVES, read from the database right
# before the run) and the target's path (BENCH_MOVE_PATH); nothing for the others.
move_env() {
    local name=$1
    unset BENCH_MOVES BENCH_MOVE_PATH
    [ -n "${MOVE_PATHS[$name]:-}" ] || return 0
    BENCH_MOVES=$("$PY" "$HERE/bench.py" moves --dsn "$BENCH_ORCHESTRATOR_DSN" --movers "$BENCH_MOVERS") \
        || fail "could not read the movers' versions"
    export BENCH_MOVES BENCH_MOVE_PATH=${MOVE_PATHS[$name]}
}

# name: a warm-up run (discarded)
warm_up() {
    local name=$1
    move_env "$name"
    eval "wrk -d${WARMUP}s ${TARGETS[$name]}" >"$OUT/$name.warmup.out" 2>&1 \
        || fail "wrk warm-up of $name failed: $(tail -n 5 "$OUT/$name.warmup.out")"
}

# pid...: the CPU time (user + system, in clock ticks) those processes have used so far
cpu_ticks() {
    local pid stat fields total=0
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a fields <<<"${stat##*) }"  # after "pid (comm) ": fields from the 3rd on
        total=$((total + fields[11] + fields[12]))  # utime, stime (the 14th and 15th)
    done
    echo "$total"
}

# name round: one measured run, in $name.$round.out, and the CPU time its server's processes
# used meanwhile in $name.$round.cpu ("<ticks> <ticks per second>")
declare -A PIDS
measure() {
    local name=$1 round=$2 before
    move_env "$name"
    [ "$round" != 1 ] || profile_start "$name"
    before=$(cpu_ticks ${PIDS[$name]:-})
    eval "wrk -d${DURATION}s --latency ${TARGETS[$name]}" >"$OUT/$name.$round.out" 2>&1 \
        || fail "wrk run of $name failed: $(tail -n 5 "$OUT/$name.$round.out")"
    echo "$(($(cpu_ticks ${PIDS[$name]:-}) - before)) $(getconf CLK_TCK)" >"$OUT/$name.$round.cpu"
    profile_wait
}

# name bare: a warm-up of each, then ROUNDS alternating rounds (name first in odd rounds)
measure_pair() {
    local name=$1 bare=$2 round
    warm_up "$name"
    warm_up "$bare"
    for round in $(seq "$ROUNDS"); do
        if ((round % 2)); then measure "$name" "$round" && measure "$bare" "$round"
        else measure "$bare" "$round" && measure "$name" "$round"; fi
    done
}

# BENCH_PROFILE=1: py-spy samples one API worker of the service under test during the first
# measured round of users-me (identity), board and move (orchestrator): collapsed stacks in
# profile-<name>.folded, for speedscope or flamegraph.pl. Sampling slows that run a little.
profile_start() {
    local name=$1 service
    [ -n "${BENCH_PROFILE:-}" ] || return 0
    case $name in
        users-me) service=identity ;;
        board | move) service=orchestrator ;;
        *) return 0 ;;
    esac
    local spy=$REPO/.venv/bin/py-spy pid
    [ -x "$spy" ] || fail "BENCH_PROFILE needs py-spy: .venv/bin/pip install py-spy"
    pid=$("$PY" "$HERE/bench.py" worker-pid "$AIORCH_STATE_DIR" "$service") \
        || fail "no API worker to profile"
    say "profiling $service worker $pid with py-spy during the measured $name run"
    "$spy" record --pid "$pid" --duration "$DURATION" --rate 100 --format raw \
        --output "$OUT/profile-$name.folded" >"$OUT/py-spy-$name.log" 2>&1 &
    SPY_PID=$!
}

profile_wait() {
    [ -n "$SPY_PID" ] || return 0
    wait "$SPY_PID" || say "py-spy failed: $(tail -n 5 "$OUT"/py-spy-*.log)"
    SPY_PID=
}

# config: start a cluster in that configuration and the bare app beside it, measure both
# (and logins, in the last configuration), print its table, stop both.
run_config() {
    local config=$1 workers sample
    OUT=$RUN_DIR/$config
    mkdir -p "$OUT"
    unset IDENTITY_ACCESS_LOG_SAMPLE IDENTITY_HTTP_WORKERS ORCHESTRATOR_ACCESS_LOG_SAMPLE ORCHESTRATOR_HTTP_WORKERS
    if [ "$config" = tuned ]; then
        workers=$TUNED_WORKERS sample=$TUNED_ACCESS_LOG_SAMPLE
        export IDENTITY_ACCESS_LOG_SAMPLE=$sample ORCHESTRATOR_ACCESS_LOG_SAMPLE=$sample
        echo "== tuned configuration: identity and orchestrator on $workers workers, access log sample $sample (BENCH_ACCESS_LOG_SAMPLE)"
    else
        workers=$DEFAULT_WORKERS sample="1 (the services' default)"
        echo "== default configuration, as \`make up\` starts the services: $workers worker(s), an access line per request"
    fi
    # the services' default is 1 worker: the variables are set only when BENCH_WORKERS asks for more
    [ "$config" = default ] && [ "$workers" -eq 1 ] || export IDENTITY_HTTP_WORKERS=$workers ORCHESTRATOR_HTTP_WORKERS=$workers
    echo "   the bare app on $workers worker(s) too"

    # chat_streams.py signs up 50 users from 127.0.0.1 (identity takes 20 per IP and window by default)
    export IDENTITY_REGISTRATION_MAX_PER_CLIENT=100
    local ports
    read -r -a ports <<<"$("$PY" "$HERE/bench.py" ports 6)"
    STATE_ROOT=$(mktemp -d /tmp/aiorch-bench-XXXXXX)
    export AIORCH_STATE_DIR=$STATE_ROOT/cluster
    export AIORCH_PG_PORT=${ports[0]} AIORCH_NATS_PORT=${ports[1]}
    export AIORCH_IDENTITY_PORT=${ports[2]} AIORCH_CHAT_PORT=${ports[3]} AIORCH_ORCHESTRATOR_PORT=${ports[4]}
    BARE_PORT=${ports[5]}
    local identity=http://127.0.0.1:$AIORCH_IDENTITY_PORT
    local orchestrator=http://127.0.0.1:$AIORCH_ORCHESTRATOR_PORT

    say "starting a private cluster (state in $STATE_ROOT)"
    "$PY" "$REPO/deploy/local/cluster.py" up >"$OUT/cluster-up.txt" 2>&1 || {
        tail -n 60 "$OUT/cluster-up.txt"
        fail "the cluster did not come up (full account in ${OUT#"$REPO"/}/cluster-up.txt)"
    }

    say "registering the bench user and logging in"
    local prepared
    prepared=$("$PY" "$HERE/bench.py" prepare --state-dir "$AIORCH_STATE_DIR" --pg-port "$AIORCH_PG_PORT" \
        --identity "$identity") || fail "could not register the bench user and take its token"
    eval "$prepared"

    say "creating a project of $BOARD_TASKS tasks through orchestrator's API"
    prepared=$("$PY" "$HERE/bench.py" board --state-dir "$AIORCH_STATE_DIR" --pg-port "$AIORCH_PG_PORT" \
        --orchestrator "$orchestrator" --token "$BENCH_TOKEN" --tasks "$BOARD_TASKS" --movers "$MOVE_CONNECTIONS") \
        || fail "could not create the bench's board"
    eval "$prepared"

    say "starting the bare app on 127.0.0.1:$BARE_PORT"
    BARE_DSN=$BENCH_DSN BARE_ORCHESTRATOR_DSN=$BENCH_ORCHESTRATOR_DSN BARE_PORT=$BARE_PORT \
        BARE_WORKERS=$workers BARE_POOL_SIZE=$POOL_SIZE \
        "$PY" "$HERE/bare_app.py" >"$OUT/bare-app.log" 2>&1 &
    BARE_PID=$!
    local bare_url=http://127.0.0.1:$BARE_PORT/bare/users/$BENCH_USER_ID
    "$PY" "$HERE/bench.py" wait "$bare_url" --timeout 30 \
        || fail "the bare app did not answer: $(tail -n 20 "$OUT/bare-app.log")"

    local pids
    pids=$("$PY" "$HERE/bench.py" api-pids "$AIORCH_STATE_DIR" identity) || fail "no identity API process"
    PIDS=([users-me]=$pids [login]=$pids)
    pids=$("$PY" "$HERE/bench.py" api-pids "$AIORCH_STATE_DIR" orchestrator) || fail "no orchestrator API process"
    PIDS[board]=$pids PIDS[move]=$pids
    pids="$BARE_PID $(pgrep -P "$BARE_PID" | tr '\n' ' ' || true)"  # none on 1 worker: uvicorn serves in-process
    PIDS[bare]=$pids PIDS[bare-board]=$pids PIDS[bare-move]=$pids
    local auth="Authorization: Bearer $BENCH_TOKEN" bare=http://127.0.0.1:$BARE_PORT/bare
    target users-me "$THREADS" "$CONNECTIONS" "$identity/api/v1/users/me" -H "$auth"
    target bare "$THREADS" "$CONNECTIONS" "$bare_url"
    target login "$THREADS" "$LOGIN_CONNECTIONS" "$identity/api/v1/auth/login"
    target board "$THREADS" "$CONNECTIONS" "$orchestrator/api/v1/projects/$BENCH_PROJECT_ID/tasks" -H "$auth"
    target bare-board "$THREADS" "$CONNECTIONS" "$bare/projects/$BENCH_PROJECT_ID/tasks?owner_id=$BENCH_USER_ID"
    target move "$MOVE_CONNECTIONS" "$MOVE_CONNECTIONS" "$orchestrator/api/v1/tasks" -H "$auth"
    target bare-move "$MOVE_CONNECTIONS" "$MOVE_CONNECTIONS" "$bare/tasks"
    MOVE_PATHS=([move]="/api/v1/tasks/%s/move" [bare-move]="/bare/tasks/%s/move?owner_id=$BENCH_USER_ID")
    say "each pair: ${WARMUP} s warm-up each, then $ROUNDS alternating rounds of ${DURATION} s"
    say "users-me and bare"
    measure_pair users-me bare
    say "board ($BOARD_TASKS tasks) and bare-board"
    measure_pair board bare-board
    say "move ($MOVE_CONNECTIONS connections, a task each) and bare-move"
    measure_pair move bare-move
    if [ "$config" = "${CONFIGS[-1]}" ]; then
        say "login: ${WARMUP} s warm-up, then ${DURATION} s"
        export BENCH_BODY=$BENCH_LOGIN_BODY
        warm_up login
        measure login 1
        unset BENCH_BODY
        # chat's search over 100,000 messages: figures only, printed after the summary; a failure
        # of this step is reported and does not fail the bench
        say "chat search: seeding 100,000 messages, then timing GET /api/v1/search (deploy/bench/chat_search.py)"
        "$PY" "$HERE/chat_search.py" --state-dir "$AIORCH_STATE_DIR" --pg-port "$AIORCH_PG_PORT" \
            --chat "http://127.0.0.1:$AIORCH_CHAT_PORT" --identity "$identity" --login-body "$BENCH_LOGIN_BODY" \
            --user-id "$BENCH_USER_ID" \
            --out "$OUT" >"$OUT/chat-search.txt" 2>&1 \
            || say "the chat search step failed (the bench goes on): $(tail -n 5 "$OUT/chat-search.txt")"
        CHAT_SEARCH_OUT=$OUT/chat-search.txt
        # chat's streams and posting, each on a chat API process of its own beside the cluster's;
        # figures only, printed after the summary; bounded by timeout, a failure does not fail the bench
        local chat_args=(--state-dir "$AIORCH_STATE_DIR" --pg-port "$AIORCH_PG_PORT" --nats-port "$AIORCH_NATS_PORT"
            --identity "$identity" --orchestrator "$orchestrator" --out "$OUT")
        say "chat streams: 500 WebSocket streams on one chat API process (deploy/bench/chat_streams.py)"
        timeout 180 "$PY" "$HERE/chat_streams.py" "${chat_args[@]}" >"$OUT/chat-streams.txt" 2>&1 \
            || say "the chat streams step failed (the bench goes on): $(tail -n 5 "$OUT/chat-streams.txt")"
        CHAT_STREAMS_OUT=$OUT/chat-streams.txt
        say "chat post: posting a message against a bare asyncpg endpoint (deploy/bench/chat_post.py)"
        timeout 120 "$PY" "$HERE/chat_post.py" "${chat_args[@]}" >"$OUT/chat-post.txt" 2>&1 \
            || say "the chat post step failed (the bench goes on): $(tail -n 5 "$OUT/chat-post.txt")"
        CHAT_POST_OUT=$OUT/chat-post.txt
    fi
    stop_bare
    stop_cluster 0

    echo
    "$PY" "$HERE/bench.py" table "$OUT" --argon2 "$BENCH_ARGON2" \
        --context "configuration=$config" \
        --context "sha=$SHA$DIRTY" --context "cores=$CORES" --context "cpu=$MODEL" --context "busy_before_pct=$BUSY" \
        --context "workers=$workers" --context "connections=$CONNECTIONS" --context "duration_s=$DURATION" --context "rounds=$ROUNDS" \
        --context "access_log_sample=$sample" --context "board_tasks=$BOARD_TASKS" \
        --context "move_connections=$MOVE_CONNECTIONS" \
        --context "login_connections=$LOGIN_CONNECTIONS" || VALID=1
    echo
}

main() {
    trap cleanup EXIT
    # errexit stops the run without a word: say which command failed, and where
    trap 'say "FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR
    trap 'exit 130' INT
    trap 'exit 143' TERM
    isolate_env
    [ -x "$PY" ] || fail "$PY is missing: run make venv"
    ensure_wrk

    CORES=$(nproc)
    BUSY=$(cpu_busy)
    MODEL=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
    DIRTY=""
    [ -z "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ] || DIRTY=" (with uncommitted changes)"
    echo "aiorch bench  $(date -u +%Y-%m-%dT%H:%M:%SZ)  git $SHA$DIRTY"
    echo "machine       $CORES cores ($MODEL), $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)"
    echo "software      $("$PY" --version), $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2)"
    echo "setup         configurations: ${CONFIGS[*]}; bare: as many uvicorn workers as the services, asyncpg pools of $POOL_SIZE/worker, reset off;"
    echo "              wrk: $THREADS threads, $CONNECTIONS connections (moves: $MOVE_CONNECTIONS threads of 1), ${WARMUP} s warm-up + $ROUNDS rounds of ${DURATION} s, 127.0.0.1 only"
    echo "idle check    ${BUSY}% of the CPU busy before the start (load $(cut -d' ' -f1-3 /proc/loadavg))"
    local same
    if same=$("$PY" "$HERE/bench.py" same-sql 2>&1); then
        echo "same SQL      $same"
    else
        echo "WARNING       the bare endpoints no longer run orchestrator's SQL: update bare_board.py"
        printf '%s\n' "$same" | sed 's/^/              /'
    fi
    [ "$BUSY" -lt 20 ] || echo "WARNING       the machine is busy: figures will be low and noisy"
    echo

    VALID=0
    local config
    for config in "${CONFIGS[@]}"; do
        run_config "$config"
    done
    "$PY" "$HERE/bench.py" summary "$RUN_DIR" "${CONFIGS[@]}"
    echo
    if [ -n "$CHAT_SEARCH_OUT" ]; then
        echo "  chat search over 100,000 messages of one user (${CONFIGS[-1]} configuration; chat as make up starts it)"
        cat "$CHAT_SEARCH_OUT"
        echo
    fi
    if [ -n "$CHAT_STREAMS_OUT" ]; then
        echo "  chat: 500 WebSocket streams on one API process, offline model at 20 ms/token (${CONFIGS[-1]} configuration)"
        cat "$CHAT_STREAMS_OUT"
        echo
    fi
    if [ -n "$CHAT_POST_OUT" ]; then
        echo "  chat: posting a message against a bare asyncpg endpoint (${CONFIGS[-1]} configuration)"
        cat "$CHAT_POST_OUT"
        echo
    fi
    echo "idle check    $(cpu_busy)% of the CPU busy after the runs (other work skews the figures)"
    [ "$VALID" -eq 0 ] || fail "a run had errors (see the tables); its figures are not valid"
}

mkdir -p "$RUN_DIR"
ln -sfn "$(basename "$RUN_DIR")" "$REPO/.bench/latest"
# Everything goes to the terminal and to output.txt; tee ignores Ctrl-C, so that the
# clean-up's messages still reach both.
main 2>&1 | (trap '' INT TERM && exec tee "$RUN_DIR/output.txt")
