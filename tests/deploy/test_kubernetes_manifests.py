"""deploy/kubernetes: every overlay renders, every object passes the schema of the Kubernetes
versions it targets (strict: no unknown field), the custom resources pass their published
schemas, and the rendered objects keep the rules docs/deploy.md promises: non-root containers
with limits and probes, no secret inline, one NetworkPolicy set per process that opens exactly
the ports it needs, and prod's replicas (HPAs, PDBs, NATS x3 syncing always, PostgreSQL x3).

Offline: ``kubectl kustomize`` renders, ``kubernetes-validate`` holds the Kubernetes schemas, the
custom resources' schemas are shipped in deploy/kubernetes/schemas.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
from sqlalchemy.engine import make_url
from tests.deploy.kubernetes_manifests import (
    CUSTOM_RESOURCES,
    OVERLAYS,
    SERVICES,
    Manifest,
    Pod,
    by_kind,
    custom_resource_schema,
    env_of,
    name_of,
    pods,
    render,
    secret_references,
    secrets_from_script,
    selects,
)

from chat.settings import Settings as ChatSettings
from identity.adapters.crypto.jwk import load_private_pem
from identity.settings import Settings as IdentitySettings
from orchestrator.settings import Settings as OrchestratorSettings
from shared.crypto.key_file import Keys
from shared.service_settings import FALLBACKS

# The Kubernetes of the kubectl this project runs (the manifests use nothing newer: HPA v2
# behavior, PDB v1, seccompProfile, the kubernetes.io/metadata.name label) and the newest one
# kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.32.0", "1.37.0")
SETTINGS = {"identity": IdentitySettings, "chat": ChatSettings, "orchestrator": OrchestratorSettings}
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|KEY|DATABASE_URL")
DNS = 53
WORKER_METRICS = 9090
# What each process may open, in and out, over all the NetworkPolicies that select its pods.
EXPECTED_PORTS = {
    "identity-api": ({8001}, {DNS, 5432, 4222, 443, 587, 465, 25}),
    "chat-api": ({8002}, {DNS, 5432, 4222, 8001, 443}),
    "orchestrator-api": ({8003}, {DNS, 5432, 4222, 8001, 443}),
    **{f"{s}-worker": ({WORKER_METRICS}, {DNS, 5432, 4222}) for s in SERVICES},
    **{f"{s}-migrate": (set(), {DNS, 5432}) for s in SERVICES},
}
EXPECTED_SERVER_PORTS = {
    "dev": {"postgres": ({5432}, {DNS}), "nats": ({4222}, {DNS})},
    "prod": {"nats": ({4222, 6222}, {DNS, 6222})},
}


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def manifests(overlay: str) -> list[Manifest]:
    return render(overlay)


def test_the_base_and_every_overlay_render_with_kustomize() -> None:
    for where in ("base", *OVERLAYS):
        rendered = render(where)
        assert {"Deployment", "Job", "Service", "NetworkPolicy"} <= {m["kind"] for m in rendered}, where


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_passes_the_strict_schema_of_each_targeted_kubernetes_version(
    manifests: list[Manifest], version: str
) -> None:
    failures = []
    for m in manifests:
        if (m["apiVersion"], m["kind"]) in CUSTOM_RESOURCES:
            continue  # the next test
        try:
            kubernetes_validate.validate(m, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            failures.append(f"{name_of(m)}: {m['apiVersion']} is not served by Kubernetes {version}")
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path)
            failures.append(f"{name_of(m)}: {where}: {exc.message}")
    assert not failures, "\n".join(failures)


def test_every_custom_resource_passes_its_published_schema(manifests: list[Manifest]) -> None:
    failures = []
    for m in manifests:
        if (m["apiVersion"], m["kind"]) not in CUSTOM_RESOURCES:
            continue
        schema = custom_resource_schema(m["apiVersion"], m["kind"])
        for error in jsonschema.Draft7Validator(schema).iter_errors(m):
            failures.append(f"{name_of(m)}: {'/'.join(str(p) for p in error.path)}: {error.message}")
    assert not failures, "\n".join(failures)


def test_the_strict_custom_resource_schema_refuses_an_unknown_field() -> None:
    (cluster,) = [m for m in render("prod") if m["kind"] == "Cluster"]
    cluster["spec"]["instancess"] = 3
    cluster["spec"]["storage"]["sise"] = "1Gi"
    errors = list(
        jsonschema.Draft7Validator(custom_resource_schema("postgresql.cnpg.io/v1", "Cluster")).iter_errors(
            cluster
        )
    )
    assert len(errors) == 2, [e.message for e in errors]


def test_every_container_runs_as_non_root_without_privileges_on_a_read_only_root(
    manifests: list[Manifest],
) -> None:
    failures = []
    for pod in pods(manifests):
        pod_context = pod.spec.get("securityContext", {})
        if pod.spec.get("hostNetwork") or pod.spec.get("hostPID") or pod.spec.get("hostIPC"):
            failures.append(f"{pod.owner}: shares a host namespace")
        for c in pod.containers():
            ctx = {**pod_context, **c.get("securityContext", {})}
            where = f"{pod.owner} {c['name']}"
            if ctx.get("runAsNonRoot") is not True or ctx.get("runAsUser", 1) == 0:
                failures.append(f"{where}: may run as root")
            if c.get("securityContext", {}).get("allowPrivilegeEscalation") is not False:
                failures.append(f"{where}: allowPrivilegeEscalation is not false")
            if c.get("securityContext", {}).get("readOnlyRootFilesystem") is not True:
                failures.append(f"{where}: the root filesystem is writable")
            if c.get("securityContext", {}).get("capabilities", {}).get("drop") != ["ALL"]:
                failures.append(f"{where}: does not drop ALL capabilities")
            if c.get("securityContext", {}).get("capabilities", {}).get("add"):
                failures.append(f"{where}: adds capabilities")
            if ctx.get("privileged"):
                failures.append(f"{where}: privileged")
            if ctx.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                failures.append(f"{where}: no RuntimeDefault seccomp profile")
    assert not failures, "\n".join(failures)


def test_every_container_has_cpu_and_memory_requests_and_limits(manifests: list[Manifest]) -> None:
    failures = []
    for pod in pods(manifests):
        for c in pod.containers():
            resources = c.get("resources", {})
            for kind in ("requests", "limits"):
                missing = {"cpu", "memory"} - set(resources.get(kind, {}))
                if missing:
                    failures.append(f"{pod.owner} {c['name']}: no {kind} for {', '.join(sorted(missing))}")
    assert not failures, "\n".join(failures)


def test_every_long_running_container_has_liveness_and_readiness_probes(manifests: list[Manifest]) -> None:
    failures = [
        f"{pod.owner} {c['name']}: no {probe}"
        for pod in pods(manifests)
        if pod.kind != "Job"  # a Job's container runs to its end: nothing to probe
        for c in pod.containers(init=False)
        for probe in ("livenessProbe", "readinessProbe")
        if probe not in c
    ]
    assert not failures, "\n".join(failures)


def test_the_services_probe_their_health_endpoints(manifests: list[Manifest]) -> None:
    for pod in pods(manifests):
        if pod.kind != "Deployment":
            continue
        (container,) = pod.spec["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", pod.owner
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", pod.owner


def test_no_secret_is_written_in_the_manifests(manifests: list[Manifest]) -> None:
    failures = [f"{name_of(m)}: a Secret in the manifests" for m in manifests if m["kind"] == "Secret"]
    for m in manifests:
        if m["kind"] != "ConfigMap":
            continue
        for key, value in m.get("data", {}).items():
            if SECRET_NAME.search(key) and not _a_mounted_file(key, value):
                failures.append(f"{name_of(m)}: {key} looks like a secret and is written inline")
    for pod in pods(manifests):
        for c in pod.containers():
            for e in c.get("env", []):
                if not SECRET_NAME.search(e["name"]):
                    continue
                if "value" in e or "secretKeyRef" not in e.get("valueFrom", {}):
                    failures.append(f"{pod.owner} {c['name']}: {e['name']} does not come from a secretKeyRef")
    assert not failures, "\n".join(failures)


def _a_mounted_file(key: str, value: str) -> bool:
    """A setting naming the file a key is read from (a mounted Secret), not the key."""
    return key.endswith("_FILE") and value.startswith("/etc/aiorch/")


def test_every_config_map_a_pod_reads_is_rendered(manifests: list[Manifest]) -> None:
    config_maps = by_kind(manifests, "ConfigMap")
    missing = [
        f"{pod.owner}: {ref}"
        for pod in pods(manifests)
        for c in pod.containers()
        for source in c.get("envFrom", [])
        if (ref := source.get("configMapRef", {}).get("name")) and ref not in config_maps
    ]
    assert not missing


def test_every_pod_is_denied_everything_its_policies_do_not_open(manifests: list[Manifest]) -> None:
    policies = by_kind(manifests, "NetworkPolicy")
    deny = policies["aiorch-default-deny"]
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]
    unselected = [
        pod.owner for pod in pods(manifests) if not selects(deny["spec"]["podSelector"], pod.labels)
    ]
    assert not unselected


def test_each_process_may_open_exactly_the_ports_it_needs(overlay: str, manifests: list[Manifest]) -> None:
    policies = list(by_kind(manifests, "NetworkPolicy").values())
    expected = {**EXPECTED_PORTS, **EXPECTED_SERVER_PORTS[overlay]}
    seen = {}
    for pod in pods(manifests):
        process = pod.owner.split("/")[1]
        mine = [p for p in policies if selects(p["spec"]["podSelector"], pod.labels)]
        seen[process] = (_ports(mine, "ingress"), _ports(mine, "egress"))
    assert seen == expected


def _ports(policies: list[Manifest], direction: str) -> set[int]:
    return {
        port["port"]
        for policy in policies
        for rule in policy["spec"].get(direction, [])
        for port in rule.get("ports", [])
    }


def test_the_servers_carry_the_labels_the_services_policies_open_to(
    overlay: str, manifests: list[Manifest]
) -> None:
    server_labels = set()
    for pod in pods(manifests):
        server_labels.add(pod.labels.get("aiorch/server"))
    for cluster in (m for m in manifests if m["kind"] == "Cluster"):
        server_labels.add(cluster["spec"]["inheritedMetadata"]["labels"].get("aiorch/server"))
    assert {"postgres", "nats"} <= server_labels


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_an_api_a_worker_and_a_migrate_job(manifests: list[Manifest], service: str) -> None:
    deployments, jobs = by_kind(manifests, "Deployment"), by_kind(manifests, "Job")
    api, worker = deployments[f"{service}-api"], deployments[f"{service}-worker"]
    # args only: the image's entrypoint (secrets from files, then exec) runs the command
    assert api["spec"]["template"]["spec"]["containers"][0]["args"] == [f"aiorch-{service}", "api"]
    assert worker["spec"]["template"]["spec"]["containers"][0]["args"] == [f"aiorch-{service}", "worker"]
    migrate = jobs[f"{service}-migrate"]["spec"]["template"]["spec"]
    assert migrate["containers"][0]["args"] == [f"aiorch-{service}", "migrate"]
    # the image's provisioning script reads the admin URL and the password from the environment:
    # no secret in a command line another process could read
    provision = migrate["initContainers"][0]
    assert provision["args"] == ["python", "/opt/aiorch/lib/image/provision_roles.py", service]
    assert {e["name"] for e in provision["env"]} == {"DATABASE_URL", f"{service.upper()}_DB_PASSWORD"}
    assert all("secretKeyRef" in e["valueFrom"] for e in provision["env"])
    assert not [c for c in (*migrate["containers"], *migrate["initContainers"]) if "command" in c]
    service_object = by_kind(manifests, "Service")[service]
    assert service_object["spec"]["ports"][0]["port"] == SERVICES[service]
    env = env_of(_pod(manifests, f"Deployment/{service}-api"), manifests)
    assert env[f"{service.upper()}_HTTP_PORT"] == str(SERVICES[service])
    assert env[f"{service.upper()}_HTTP_HOST"] == "0.0.0.0"
    worker_env = env_of(_pod(manifests, f"Deployment/{service}-worker"), manifests)
    assert worker_env[f"{service.upper()}_WORKER_METRICS_PORT"] == str(WORKER_METRICS)


def _pod(manifests: list[Manifest], owner: str) -> Pod:
    (pod,) = [p for p in pods(manifests) if p.owner == owner]
    return pod


def test_prod_scales_every_api_with_an_hpa_that_owns_its_replica_count() -> None:
    manifests = render("prod")
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind(manifests, "HorizontalPodAutoscaler").values()
    }
    deployments = by_kind(manifests, "Deployment")
    for service in SERVICES:
        hpa = hpas[f"{service}-api"]
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        assert "replicas" not in deployments[f"{service}-api"]["spec"]
        assert deployments[f"{service}-worker"]["spec"]["replicas"] >= 2  # a standby relay


def test_prod_has_a_disruption_budget_for_every_process() -> None:
    manifests = render("prod")
    budgets = list(by_kind(manifests, "PodDisruptionBudget").values())
    long_running = [p for p in pods(manifests) if p.kind != "Job"]
    uncovered = [
        pod.owner
        for pod in long_running
        if not any(selects(b["spec"]["selector"], pod.labels) for b in budgets)
    ]
    assert not uncovered
    assert by_kind(manifests, "Cluster")["aiorch-pg"]["spec"]["enablePDB"] is True


def test_prod_nats_is_a_three_node_jetstream_cluster_that_syncs_every_write() -> None:
    manifests = render("prod")
    nats = by_kind(manifests, "StatefulSet")["nats"]
    config = by_kind(manifests, "ConfigMap")["nats-config"]["data"]["nats.conf"]
    assert nats["spec"]["replicas"] == 3
    assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.MULTILINE)
    assert re.search(r"^\s*jetstream\s*\{", config, re.MULTILINE)
    assert {f"nats://nats-{i}.nats-cluster:6222" for i in range(3)} <= set(re.findall(r"nats://\S+", config))
    for service in SERVICES:
        for role in ("api", "worker"):
            env = env_of(_pod(manifests, f"Deployment/{service}-{role}"), manifests)
            assert env[f"{service.upper()}_STREAM_REPLICAS"] == "3", (service, role)


def test_prod_postgres_is_a_cloudnativepg_cluster_of_three_with_a_synchronous_standby() -> None:
    cluster = by_kind(render("prod"), "Cluster")["aiorch-pg"]
    assert cluster["spec"]["instances"] == 3
    synchronous = cluster["spec"]["postgresql"]["synchronous"]
    assert synchronous["number"] >= 1
    assert synchronous["dataDurability"] == "required"
    assert cluster["spec"]["affinity"]["podAntiAffinityType"] == "required"


def test_dev_runs_one_postgres_and_one_nats_with_jetstream() -> None:
    manifests = render("dev")
    servers = by_kind(manifests, "StatefulSet")
    assert servers["postgres"]["spec"]["replicas"] == 1
    assert servers["nats"]["spec"]["replicas"] == 1
    assert "jetstream {" in by_kind(manifests, "ConfigMap")["nats-config"]["data"]["nats.conf"]
    assert not [m for m in manifests if m["kind"] == "Cluster"]


def test_create_secrets_makes_every_secret_and_key_the_manifests_read(
    overlay: str, manifests: list[Manifest]
) -> None:
    made = secrets_from_script(overlay)
    missing = [
        f"{name} {key or ''}".strip()
        for name, key, optional in secret_references(manifests)
        if not optional and (name not in made or (key is not None and key not in made[name]["data"]))
    ]
    assert not missing
    unread = set(made) - {name for name, _, _ in secret_references(manifests)}
    assert not unread


def test_the_generated_secrets_are_what_the_services_and_postgres_accept(
    overlay: str, manifests: list[Manifest]
) -> None:
    made = {name: _decoded(s) for name, s in secrets_from_script(overlay).items()}
    services = by_kind(manifests, "Service")
    clusters = by_kind(manifests, "Cluster")
    for service in SERVICES:
        url = make_url(made[f"aiorch-{service}"]["database-url"])
        assert (url.username, url.password) == (service, made[f"aiorch-{service}"]["database-password"])
        host = url.host or ""
        assert host in services or host.removesuffix("-rw") in clusters, host
    admin = make_url(made["aiorch-postgres-admin"]["admin-url"])
    if overlay == "prod":
        assert made["aiorch-postgres-superuser"]["password"] == admin.password
    else:
        assert made["aiorch-postgres-admin"]["password"] == admin.password
    load_private_pem(made["aiorch-identity-keys"]["signing-key.pem"])
    for name, key in (
        ("aiorch-model-seal-key", "model-seal-key.json"),
        ("aiorch-orchestrator-model-keys", "model-keys.json"),
    ):
        Keys.from_json(made[name][key].encode(), Path(key))


def _decoded(secret: Manifest) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_every_variable_a_service_container_is_given_is_a_setting_it_reads(manifests: list[Manifest]) -> None:
    config_maps = by_kind(manifests, "ConfigMap")
    shared = {variable for variables in FALLBACKS.values() for variable in variables}
    unknown = []
    for pod in pods(manifests):
        for c in pod.containers():
            command = c.get("args", [""])[0]
            if not command.startswith("aiorch-"):
                continue  # the provision step: its variables are its own arguments
            service = command.removeprefix("aiorch-")
            fields = set(SETTINGS[service].__struct_fields__)
            names = {e["name"] for e in c.get("env", [])}
            for source in c.get("envFrom", []):
                names |= set(config_maps[source["configMapRef"]["name"]]["data"])
            prefix = f"{service.upper()}_"
            unknown += [
                f"{pod.owner} {c['name']}: {name}"
                for name in sorted(names)
                if name not in shared
                and not (name.startswith(prefix) and name.removeprefix(prefix).lower() in fields)
            ]
    assert not unknown
