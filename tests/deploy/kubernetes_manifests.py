"""What the Kubernetes manifest tests read: the overlays rendered by ``kubectl kustomize``, the
pods in them, and the published schemas of the custom resources they use.

Rendering needs ``kubectl`` (it carries kustomize); a machine without it fails the tests with a
message saying so, never skips them.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "deploy" / "kubernetes"
OVERLAYS = ("dev", "prod")
SCHEMAS = KUBERNETES / "schemas"
# (apiVersion, kind) of each custom resource the overlays use → its published schema, shipped
CUSTOM_RESOURCES = {("postgresql.cnpg.io/v1", "Cluster"): SCHEMAS / "postgresql.cnpg.io_cluster_v1.json"}
SERVICES = {"identity": 8001, "chat": 8002, "orchestrator": 8003}
WORKLOADS = ("Deployment", "StatefulSet", "Job")

Manifest = dict[str, Any]


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl is not installed: the Kubernetes manifests are rendered with `kubectl kustomize` "
            "(install the `kubectl` package; this project renders with kubectl 1.32, kustomize v5.5)",
            pytrace=False,
        )
    return found


@functools.cache
def _rendered(path: str) -> tuple[Manifest, ...]:
    done = subprocess.run(
        [kubectl(), "kustomize", path], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"`kubectl kustomize {path}` failed:\n{done.stderr}", pytrace=False)
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def render(overlay: str) -> list[Manifest]:
    """The objects of ``overlays/<overlay>`` (or ``base``), copies the caller may change."""
    where = KUBERNETES / ("base" if overlay == "base" else f"overlays/{overlay}")
    return copy.deepcopy(list(_rendered(str(where))))


def name_of(manifest: Manifest) -> str:
    return f"{manifest['kind']}/{manifest['metadata']['name']}"


def by_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


@dataclass(frozen=True)
class Pod:
    """A workload's pod template, with where it comes from."""

    owner: str
    kind: str
    labels: Mapping[str, str]
    spec: Manifest

    def containers(self, *, init: bool = True) -> Iterator[Manifest]:
        yield from self.spec.get("containers", [])
        if init:
            yield from self.spec.get("initContainers", [])


def pods(manifests: list[Manifest]) -> list[Pod]:
    found = []
    for m in manifests:
        if m["kind"] in WORKLOADS:
            template = m["spec"]["template"]
            found.append(Pod(name_of(m), m["kind"], template["metadata"].get("labels", {}), template["spec"]))
    return found


def env_of(pod: Pod, manifests: list[Manifest]) -> dict[str, str]:
    """The plain values a pod's first container sees: its ConfigMaps (envFrom), then ``env`` values."""
    config_maps = by_kind(manifests, "ConfigMap")
    env: dict[str, str] = {}
    container = pod.spec["containers"][0]
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]]["data"])
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


def selects(selector: Manifest, labels: Mapping[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions) selects ``labels``."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def strict_schema(crd_schema: Manifest) -> Manifest:
    """A CRD's openAPIV3Schema as a JSON Schema that refuses what the API server would refuse with
    strict field validation (``kubectl apply`` warns, ``--validate=strict`` fails): unknown
    fields where the schema does not preserve them; int-or-string and nullable as Kubernetes reads
    them."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items() if k not in ("properties", "additionalProperties")}
        if "properties" in node:
            out["properties"] = {k: walk(v) for k, v in node["properties"].items()}
        if "additionalProperties" in node:
            out["additionalProperties"] = walk(node["additionalProperties"])
        elif "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        if node.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if node.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        return out

    return walk(crd_schema)


@functools.cache
def custom_resource_schema(api_version: str, kind: str) -> Manifest:
    path = CUSTOM_RESOURCES[(api_version, kind)]
    return strict_schema(json.loads(path.read_text()))


def secrets_from_script(overlay: str) -> dict[str, Manifest]:
    """The Secrets ``create-secrets.sh --dry-run`` makes for ``overlay`` (nothing leaves the machine)."""
    kubectl()
    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed: create-secrets.sh generates the keys with it", pytrace=False)
    done = subprocess.run(
        ["bash", str(KUBERNETES / "create-secrets.sh"), "--overlay", overlay, "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {d["metadata"]["name"]: d for d in yaml.safe_load_all(done.stdout) if d}


def secret_references(manifests: list[Manifest]) -> set[tuple[str, str | None, bool]]:
    """(Secret, key or None for the whole Secret, optional) of every reference in the manifests."""
    found: set[tuple[str, str | None, bool]] = set()
    for pod in pods(manifests):
        for c in pod.containers():
            for e in c.get("env", []):
                if ref := e.get("valueFrom", {}).get("secretKeyRef"):
                    found.add((ref["name"], ref["key"], bool(ref.get("optional"))))
            for source in c.get("envFrom", []):
                if ref := source.get("secretRef"):
                    found.add((ref["name"], None, bool(ref.get("optional"))))
        for volume in pod.spec.get("volumes", []):
            if ref := volume.get("secret"):
                found.add((ref["secretName"], None, bool(ref.get("optional"))))
    for m in manifests:
        if m["kind"] == "Cluster" and "superuserSecret" in m["spec"]:
            found.add((m["spec"]["superuserSecret"]["name"], "password", False))
    return found
