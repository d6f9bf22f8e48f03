# The aiorch service image: ONE image for every service and role.
#
#   docker run aiorch/service aiorch-identity api        (or worker, migrate)
#   docker run aiorch/service aiorch-chat worker
#   docker run aiorch/service aiorch-orchestrator migrate
#
# Why one image and not three: the services share one chassis (shared) and almost all
# their dependencies; each service's own code is a few hundred KiB. Three images would
# hold three copies of the same ~60 MiB of wheels and cost three builds, for nothing
# a running container gains (a process imports only its own service). One image also
# means one tag to roll out: identity, chat and orchestrator of one revision move
# together, which is what the event contracts in shared assume.
#
# Built by deploy/containers/build-images.sh (`service`), which first builds the
# wheelhouse (deploy/containers/wheelhouse.sh: this checkout's four projects and their
# pinned run-time dependencies, no dev tools, no llama-cpp) and passes it as the build
# context with each service's Alembic revisions and image/ (entrypoint, health check,
# role provisioning):
#
#   context/wheels/{deps,aiorch}/*.whl   context/services/<service>/migrations/   context/image/*.py
#
# The final stage is the base image plus a virtual environment in /opt/aiorch: no pip,
# no compilers, no wheelhouse, no caches. It runs as the unprivileged user aiorch
# (10001:10001) and works with a read-only root file system: the only writable paths are
#   /var/lib/aiorch  state: identity's key ring, chat's blobs, mail, model keys (a volume)
#   /tmp             scratch (a tmpfs)
# and /dev/shm, which the engine always provides (the API's multiprocess metrics).
#
# PYTHON_IMAGE: the official image for anyone with a registry; where none answers,
# build-images.sh passes aiorch/python:3.11-local (Debian bookworm's python3.11 at
# /usr/bin/python3.11, made with debootstrap), so the same recipe builds here.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# --no-index: exactly the wheels built for this revision, nothing fetched. The
# dependencies first, in a layer of their own: a change to our code alone reuses it.
COPY wheels/deps/ /wheels/deps/
RUN python3.11 -m venv /opt/aiorch \
    && /opt/aiorch/bin/python -m pip install --disable-pip-version-check --no-cache-dir --no-index \
        --no-deps /wheels/deps/*.whl
COPY wheels/aiorch/ /wheels/aiorch/
# pip and setuptools leave the environment afterwards: the image installs nothing at run time.
RUN /opt/aiorch/bin/python -m pip install --disable-pip-version-check --no-cache-dir --no-index \
        --find-links /wheels/deps /wheels/aiorch/*.whl \
    && /opt/aiorch/bin/python -m pip check \
    && /opt/aiorch/bin/python -m pip uninstall --disable-pip-version-check -y pip setuptools
# A service finds its Alembic revisions beside its package, as in the source tree
# (shared.db.migrations.migrations_of: <package>/../../migrations), and the wheels do not
# carry them: each service's package moves to /opt/aiorch/services/<service>/src (on the
# path through a .pth file) beside its migrations/, the same layout as services/<service>/.
COPY services/ /opt/aiorch/services/
RUN site="$(/opt/aiorch/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
    && for service in identity chat orchestrator; do \
        mkdir -p "/opt/aiorch/services/$service/src" \
        && mv "$site/$service" "/opt/aiorch/services/$service/src/" \
        && echo "/opt/aiorch/services/$service/src" >"$site/aiorch-$service-source.pth" || exit 1; \
    done \
    && /opt/aiorch/bin/python -c "import identity, chat, orchestrator; \
from shared.db.migrations import migrations_of; \
missing = [m.__name__ for m in (identity, chat, orchestrator) if not (migrations_of(m) / 'env.py').is_file()]; \
assert not missing, f'no migrations for {missing}'; \
import identity.entrypoints.cli, chat.entrypoints.cli, orchestrator.entrypoints.cli"
COPY image/entrypoint.py image/healthcheck.py image/provision_roles.py /opt/aiorch/lib/image/

FROM ${PYTHON_IMAGE}
ARG VERSION=0.0.0
ARG REVISION=unknown
ARG SOURCE=""
ARG CREATED=""
LABEL org.opencontainers.image.title="aiorch" \
      org.opencontainers.image.description="aiorch services (identity, chat, orchestrator): api, worker, migrate" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.created="${CREATED}"

RUN groupadd --system --gid 10001 aiorch \
    && useradd --system --uid 10001 --gid aiorch --home-dir /var/lib/aiorch --no-create-home \
        --shell /usr/sbin/nologin aiorch \
    && mkdir -p /var/lib/aiorch \
    && chown aiorch:aiorch /var/lib/aiorch \
    && chmod 0700 /var/lib/aiorch
COPY --from=build /opt/aiorch /opt/aiorch

# No .pyc written at run time (the root file system is read-only; pip compiled them at
# install). Logs are flushed by the services in batches: no PYTHONUNBUFFERED.
ENV PATH=/opt/aiorch/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/aiorch \
    LANG=C.UTF-8
WORKDIR /var/lib/aiorch
VOLUME ["/var/lib/aiorch", "/tmp"]
USER 10001:10001
EXPOSE 8001 8002 8003

# The API answers /health/ready; the worker on its metrics port (see healthcheck.py).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/opt/aiorch/bin/python", "-I", "-S", "/opt/aiorch/lib/image/healthcheck.py"]
# Exec form, and the entrypoint exec()s the command: PID 1 is the service's Python.
ENTRYPOINT ["/opt/aiorch/bin/python", "-I", "/opt/aiorch/lib/image/entrypoint.py"]
CMD ["aiorch-identity", "api"]
STOPSIGNAL SIGTERM
