"""What the local cluster runs, read once from the environment.

Every knob is an environment variable so that `make up`, `make run` and the
system tests (which need private ports and a private state directory) share one
code path. The defaults stay clear of the standard PostgreSQL and NATS ports,
where a system server may already listen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("identity", "chat", "orchestrator")
ROLES = ("api", "worker")
DEFAULT_SERVICE_PORTS = {"identity": 8001, "chat": 8002, "orchestrator": 8003}
# Below Linux's range for outgoing connections (32768-60999), where a port may be
# taken by a client socket at any moment, and away from the standard 5432/4222.
DEFAULT_PG_PORT = 15432
DEFAULT_NATS_PORT = 14222
# The local real model (`make run LLM=local`): llama.cpp's server, a supervised process named "llm".
LLM_CHOICES = ("offline", "local")
LLM_PROCESS = "llm"
DEFAULT_LLM_PORT = 8091
PORT_VARIABLES = {
    "postgres": "AIORCH_PG_PORT",
    "nats": "AIORCH_NATS_PORT",
    LLM_PROCESS: "AIORCH_LLM_PORT",
    **{f"{s}-api": f"AIORCH_{s.upper()}_PORT" for s in SERVICES},
}
READY_TIMEOUT_S = 90.0
# AIORCH_REPLICAS=N runs N copies of every API and worker. Copy r (1-based) of an API listens
# on the service's port + 10*(r-1) (chat: 8002, 8012 ...), its worker's health and metrics on
# that port + 100; the copies after the first are named with their number (chat-api-2).
MAX_REPLICAS = 9
REPLICA_PORT_STEP = 10
WORKER_PORT_OFFSET = 100
REPO_ROOT = Path(__file__).resolve().parents[2]

# Marks every process the cluster starts (servers, services and anything they
# spawn): `down` finds leftovers of a crashed supervisor by it, whatever their pid.
MARKER_ENV = "AIORCH_CLUSTER_STATE"


class ConfigError(ValueError):
    """A variable is invalid; the message names it."""


def env_prefix(service: str) -> str:
    return f"{service.upper()}_"


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    state_dir: Path
    pg_port: int
    nats_port: int
    service_ports: Mapping[str, int]
    # DATABASE_URL: a server of the user's, used with admin rights to provision roles.
    external_admin_url: str | None
    external_nats_url: str | None
    # {P}DATABASE_URL: a service's own ready-made URL, passed through untouched.
    own_database_urls: Mapping[str, str]
    log_level: str
    ready_timeout: float = READY_TIMEOUT_S
    # LLM=local: run the local model too and hand its URL to orchestrator; "offline" runs none
    llm: str = "offline"
    llm_port: int = DEFAULT_LLM_PORT
    replicas: int = 1

    def api_port(self, service: str, replica: int = 1) -> int:
        return self.service_ports[service] + REPLICA_PORT_STEP * (replica - 1)

    def worker_port(self, service: str, replica: int = 1) -> int:
        return self.api_port(service, replica) + WORKER_PORT_OFFSET

    def service_processes(self) -> list[tuple[str, str, str, int]]:
        """(name, service, role, replica) of every API and worker, in start order."""
        return [
            (process_name(service, role, replica), service, role, replica)
            for service in SERVICES
            for replica in range(1, self.replicas + 1)
            for role in ROLES
        ]

    @property
    def local_model(self) -> bool:
        return self.llm == "local"

    @property
    def provisioned_services(self) -> tuple[str, ...]:
        """The services whose role and schema the cluster creates itself."""
        return tuple(s for s in SERVICES if s not in self.own_database_urls)

    @property
    def embedded_postgres(self) -> bool:
        return self.external_admin_url is None and bool(self.provisioned_services)

    @property
    def embedded_nats(self) -> bool:
        return self.external_nats_url is None

    def ports_to_bind(self) -> dict[str, int]:
        """Every port a process of ours will listen on, by what listens there."""
        ports: dict[str, int] = {}
        for name, service, role, replica in self.service_processes():
            api = role == "api"
            ports[name] = self.api_port(service, replica) if api else self.worker_port(service, replica)
        if self.embedded_postgres:
            ports["postgres"] = self.pg_port
        if self.embedded_nats:
            ports["nats"] = self.nats_port
        if self.local_model:
            ports[LLM_PROCESS] = self.llm_port
        return ports


def process_name(service: str, role: str, replica: int = 1) -> str:
    """``chat-api`` for the first copy (the name `make restart P=...` has always taken), ``chat-api-2``..."""
    return f"{service}-{role}" if replica == 1 else f"{service}-{role}-{replica}"


def port_variable(owner: str) -> str:
    """The variable that moves ``owner``'s port: a replica's or a worker's follows its API's."""
    return PORT_VARIABLES.get(owner) or PORT_VARIABLES[f"{owner.partition('-')[0]}-api"]


def _replicas(environ: Mapping[str, str]) -> int:
    raw = environ.get("AIORCH_REPLICAS", "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_REPLICAS:
        raise ConfigError(f"AIORCH_REPLICAS must be a whole number from 1 to {MAX_REPLICAS}, not {raw!r}")
    return int(raw)


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a port number, not {raw!r}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{name} must be between 1 and 65535, not {port}")
    return port


def _nonempty(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _llm(environ: Mapping[str, str]) -> str:
    # `make run LLM=local` exports LLM to the cluster; AIORCH_LLM is the same for a shell profile
    value = (_nonempty(environ, "AIORCH_LLM") or _nonempty(environ, "LLM") or "offline").lower()
    if value not in LLM_CHOICES:
        raise ConfigError(f"LLM must be one of {', '.join(LLM_CHOICES)}, not {value!r}")
    return value


def load_config(environ: Mapping[str, str] | None = None) -> ClusterConfig:
    env = os.environ if environ is None else environ
    state = _nonempty(env, "AIORCH_STATE_DIR")
    config = ClusterConfig(
        state_dir=Path(state).expanduser().resolve() if state else REPO_ROOT / ".cluster",
        pg_port=_port(env, PORT_VARIABLES["postgres"], DEFAULT_PG_PORT),
        nats_port=_port(env, PORT_VARIABLES["nats"], DEFAULT_NATS_PORT),
        service_ports={s: _port(env, PORT_VARIABLES[f"{s}-api"], DEFAULT_SERVICE_PORTS[s]) for s in SERVICES},
        external_admin_url=_nonempty(env, "DATABASE_URL"),
        external_nats_url=_nonempty(env, "NATS_URL"),
        own_database_urls={
            s: url for s in SERVICES if (url := _nonempty(env, f"{env_prefix(s)}DATABASE_URL"))
        },
        log_level=_nonempty(env, "LOG_LEVEL") or "INFO",
        llm=_llm(env),
        llm_port=_port(env, PORT_VARIABLES[LLM_PROCESS], DEFAULT_LLM_PORT),
        replicas=_replicas(env),
    )
    ports = config.ports_to_bind()
    if len(set(ports.values())) != len(ports):
        raise ConfigError(f"two processes would listen on the same port: {ports}")
    if max(ports.values()) > 65535:
        raise ConfigError(f"the replicas' ports would pass 65535: {ports}")
    return config
