"""Static invariants of the compose stack (deploy/compose): its files are read, nothing runs.

``make test-compose`` brings the stack up for real; these checks keep its promises in
``make test`` without Docker: start order, health checks, secrets as files, JetStream's
fsync, the hardening of the services' containers, and the host-network override.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import re
import smtplib
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "compose"
JOBS = {"provision", "identity-migrate", "chat-migrate", "orchestrator-migrate"}
SERVICES = ("identity", "chat", "orchestrator")
PROCESSES = {f"{s}-{role}" for s in SERVICES for role in ("api", "worker")}
# what must never be a test's or a compose default here (the system's and the local cluster's)
TAKEN_PORTS = {5432, 4222, 8001, 8002, 8003, 15432, 14222}
SECRET_WORDS = re.compile(r"PASSWORD|TOKEN|SECRET|PRIVATE|_KEY$")


def read(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE / name).read_text())
    return loaded


BASE = read("compose.yaml")
HOSTNET = read("compose.hostnet.yaml")
PORTS = read("compose.ports.yaml")
SERVICE_IMAGE = "${AIORCH_SERVICE_IMAGE:-aiorch/service:local}"


def services() -> dict[str, Any]:
    found: dict[str, Any] = BASE["services"]
    return found


def test_every_long_running_service_has_a_health_check_and_every_job_runs_once() -> None:
    for name, service in services().items():
        if name in JOBS:
            assert service["restart"] == "no", name
            assert service["healthcheck"] == {"disable": True}, name
            continue
        check = service.get("healthcheck", {})
        assert not check.get("disable"), name
        assert check.get("test", [None])[0] == "CMD", f"{name}: an exec-form health check"
        assert service["restart"] == "unless-stopped", name
    assert {"postgres", "nats", "mailcatcher", *PROCESSES, *JOBS} == set(services())


def test_migrations_run_after_provisioning_and_before_every_api_and_worker() -> None:
    assert services()["provision"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for service in SERVICES:
        assert services()[f"{service}-migrate"]["depends_on"] == {
            "provision": {"condition": "service_completed_successfully"}
        }
        assert services()[f"{service}-migrate"]["command"] == [f"aiorch-{service}", "migrate"]
    for name in PROCESSES:
        depends = services()[name]["depends_on"]
        for service in SERVICES:
            assert depends[f"{service}-migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["nats"] == {"condition": "service_healthy"}, name


def test_secrets_are_files_and_no_secret_is_written_in_the_compose_files() -> None:
    for name, secret in BASE["secrets"].items():
        assert set(secret) == {"file"}, f"{name}: a file, nothing inline"
        assert secret["file"].startswith("${AIORCH_COMPOSE_SECRETS:-./secrets}/"), name
    for document in (BASE, HOSTNET, PORTS):
        for name, service in document["services"].items():
            environment = service.get("environment") or {}
            assert isinstance(environment, dict), f"{name}: environment as a mapping"
            for variable, value in environment.items():
                if SECRET_WORDS.search(variable):
                    assert str(value).startswith("/run/secrets/"), f"{name}: {variable} inline"
                assert not re.search(r"://[^@/\s]*:[^@/\s]*@", str(value)), (
                    f"{name}: a password in {variable}"
                )
    gitignore = (REPO / ".gitignore").read_text().splitlines()
    assert "deploy/compose/secrets/" in gitignore


def test_each_process_gets_only_its_own_database_password() -> None:
    for service in SERVICES:
        for role in ("api", "worker", "migrate"):
            sources = {s["source"]: s["target"] for s in services()[f"{service}-{role}"]["secrets"]}
            assert sources[f"{service}-db-password"] == "PGPASSWORD"
            others = {f"{o}-db-password" for o in SERVICES if o != service} | {"postgres-password"}
            assert not others & set(sources), f"{service}-{role} holds {others & set(sources)}"


def test_nats_keeps_jetstream_on_a_volume_and_fsyncs_every_write() -> None:
    conf = (COMPOSE / "nats.conf").read_text()
    block = re.search(r"jetstream\s*\{([^}]*)\}", conf)
    assert block, "a jetstream block"
    assert re.search(r"^\s*sync_interval:\s*always\s*$", block.group(1), re.M)
    store = re.search(r"store_dir:\s*(\S+)", block.group(1))
    assert store
    nats = services()["nats"]
    assert nats["command"][:2] == ["-c", "/etc/nats/aiorch.conf"]
    mounts = dict(reversed(volume.split(":")[:2]) for volume in nats["volumes"])
    assert mounts["/etc/nats/aiorch.conf"] == "./nats.conf"
    data = next(target for target in mounts if store.group(1).startswith(target + "/"))
    assert mounts[data] in BASE["volumes"], "the store on a named volume"
    assert HOSTNET["services"]["nats"]["command"][:2] == nats["command"][:2], "the override keeps the config"


def test_the_services_containers_are_hardened() -> None:
    for name in (*PROCESSES, *JOBS, "mailcatcher"):
        service = services()[name]
        assert service["image"] == SERVICE_IMAGE, name
        assert service["read_only"] is True, name
        assert service["tmpfs"][0] == "/tmp", name
        state = [v.split(":")[1] for v in service.get("volumes", []) if not v.startswith("./")]
        scratch = [t.split(":")[0] for t in service["tmpfs"][1:]]
        assert "/var/lib/aiorch" in [*state, *scratch], f"{name}: no anonymous volume for its state"
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert "user" not in service, f"{name}: the image's own unprivileged user"
    for name in PROCESSES:
        assert services()[name]["command"][0].startswith("aiorch-"), "exec'd by the entrypoint, no shell"


def test_the_images_are_settings_with_official_defaults() -> None:
    assert services()["postgres"]["image"].startswith("${AIORCH_POSTGRES_IMAGE:-postgres:")
    assert services()["nats"]["image"].startswith("${AIORCH_NATS_IMAGE:-nats:")


def test_the_host_network_override_puts_every_container_on_loopback_on_ports_of_its_own() -> None:
    overridden = HOSTNET["services"]
    assert set(overridden) == set(services()), "every service, or one would be left on a bridge"
    assert all(s.get("network_mode") == "host" for s in overridden.values())
    defaults: dict[str, int] = {}
    for variable, default in re.findall(
        r"\$\{(AIORCH_COMPOSE_\w+_PORT):-(\d+)\}", (COMPOSE / "compose.hostnet.yaml").read_text()
    ):
        assert defaults.setdefault(variable, int(default)) == int(default), f"{variable} has two defaults"
    assert len(set(defaults.values())) == len(defaults), f"ports shared: {defaults}"
    assert not set(defaults.values()) & TAKEN_PORTS, defaults
    for name in PROCESSES:
        environment = overridden[name]["environment"]
        prefix = name.split("-")[0].upper()
        assert environment[f"{prefix}_HTTP_HOST"] == "127.0.0.1", name
        assert "127.0.0.1" in environment[f"{prefix}_DATABASE_URL"], name
    assert "listen_addresses=127.0.0.1" in overridden["postgres"]["command"]
    assert overridden["nats"]["command"][overridden["nats"]["command"].index("-a") + 1] == "127.0.0.1"
    published = [p for s in PORTS["services"].values() for p in s["ports"]]
    assert published
    assert all(p.startswith("127.0.0.1:") for p in published), "published on loopback only"
    assert not any("ports" in s for s in BASE["services"].values()), (
        "the base publishes nothing (host mode refuses)"
    )


# --- the mail catcher, driven directly ---------------------------------------------------


def load_mailcatcher() -> Any:
    spec = importlib.util.spec_from_file_location("compose_mailcatcher", COMPOSE / "mailcatcher.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.asyncio
async def test_the_mail_catcher_stores_each_message_as_an_eml_file_only_its_owner_reads(
    tmp_path: Path,
) -> None:
    catcher = load_mailcatcher()
    server = await asyncio.start_server(lambda r, w: catcher.session(r, w, tmp_path), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    body = "Subject: hello\r\nTo: ada@example.org\r\n\r\n.a line starting with a dot\r\n"

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("no-reply@aiorch.localhost", ["ada@example.org"], body)

    async with server:
        await asyncio.to_thread(send)
    (stored,) = tmp_path.glob("*.eml")
    assert stored.read_bytes() == body.encode()
    assert stored.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".*.partial"))


# --- the secrets script, run for real into a temporary directory ----------------------------


def make_secrets(directory: Path, **env: str) -> None:
    subprocess.run(
        ["bash", str(COMPOSE / "secrets.sh")],
        env={"PATH": os.environ["PATH"], "AIORCH_COMPOSE_SECRETS": str(directory), **env},
        check=True,
        capture_output=True,
    )


def test_the_secrets_script_makes_every_secret_the_compose_file_names_once_in_a_private_directory(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "secrets"
    make_secrets(directory, AIORCH_ADMIN_PASSWORD="the admin's own passphrase")
    named = {Path(s["file"]).name for s in BASE["secrets"].values()}
    assert {p.name for p in directory.iterdir()} == named
    assert directory.stat().st_mode & 0o777 == 0o700
    assert (directory / "admin-password").read_text() == "the admin's own passphrase\n"
    passwords = [(directory / f"{s}-db-password").read_text() for s in SERVICES]
    assert len(set(passwords)) == len(SERVICES)
    assert all(len(p.strip()) >= 32 for p in passwords)
    seal = json.loads((directory / "model-seal-key.json").read_text())
    assert len(base64.b64decode(seal["keys"][seal["current"]], validate=True)) == 32
    if os.geteuid() == 0:  # the services' user owns what they read; PostgreSQL's is readable
        token = (directory / "metrics-token").stat()
        assert (token.st_uid, token.st_mode & 0o777) == (10001, 0o400)
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    make_secrets(directory, AIORCH_ADMIN_PASSWORD="another")
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before, "never replaced"
