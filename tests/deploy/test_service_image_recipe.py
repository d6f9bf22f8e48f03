"""Static invariants of the service image's recipe (deploy/containers/service.Dockerfile) and its helpers.

No Docker needed: the Dockerfile is read as text, the entrypoint and health check are
imported from their files and driven directly. ``make test-compose`` builds and runs the
image for real.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTAINERS = REPO / "deploy" / "containers"
DOCKERFILE = CONTAINERS / "service.Dockerfile"
OCI_LABELS = ("version", "revision", "source", "created")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        joined.append(current + stripped)
        current = ""
    found = []
    for line in joined:
        word, _, rest = line.partition(" ")
        found.append((word.upper(), rest.strip()))
    return found


def stages(parsed: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for instruction in parsed:
        if instruction[0] == "FROM":
            out.append([])
        if out:
            out[-1].append(instruction)
    return out


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"image_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PARSED = instructions(DOCKERFILE.read_text())
FINAL = stages(PARSED)[-1]


def final(instruction: str) -> list[str]:
    return [args for word, args in FINAL if word == instruction]


def test_the_base_is_the_official_python_image_by_default_and_every_stage_is_built_on_it() -> None:
    assert PARSED[0] == ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm")
    froms = [args for word, args in PARSED if word == "FROM"]
    assert len(froms) >= 2, "a build stage and a final stage"
    assert all(f.split()[0] == "${PYTHON_IMAGE}" for f in froms), froms


def test_the_final_stage_runs_as_an_unprivileged_user() -> None:
    users = final("USER")
    assert users, "the final stage names its user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users
    assert user.isdigit(), "numeric, so a runtime can check runAsNonRoot"
    assert int(user) >= 1000


def test_the_entrypoint_and_health_check_are_exec_form_with_no_shell_in_between() -> None:
    (entrypoint,) = final("ENTRYPOINT")
    argv = json.loads(entrypoint)
    assert isinstance(argv, list), "exec form: a JSON array"
    assert Path(argv[0]).name.startswith("python"), argv
    assert not any(Path(a).name in ("sh", "bash", "dash") for a in argv), argv
    (healthcheck,) = final("HEALTHCHECK")
    options, _, command = healthcheck.partition(" CMD ")
    assert "--interval" in options
    assert "--timeout" in options
    assert isinstance(json.loads(command), list), "exec form: no shell per probe"
    (cmd,) = final("CMD")
    assert isinstance(json.loads(cmd), list)


def test_the_image_carries_oci_labels_from_build_arguments() -> None:
    labels = " ".join(final("LABEL"))
    declared = {args.split("=")[0] for args in final("ARG")}
    for name in OCI_LABELS:
        match = re.search(rf'org\.opencontainers\.image\.{name}="\$\{{(\w+)\}}"', labels)
        assert match, f"org.opencontainers.image.{name} from a build argument"
        assert match.group(1) in declared, f"{match.group(1)} is an ARG of the final stage"


def test_the_final_stage_holds_no_wheelhouse_pip_compiler_or_cache() -> None:
    copies = final("COPY")
    assert copies
    assert all(c.startswith("--from=") for c in copies), "only from the build stage"
    assert all("/opt/aiorch" in c for c in copies), copies
    runs = " ".join(final("RUN"))
    for word in ("pip", "apt-get", "wheels", "gcc", "build-essential"):
        assert word not in runs, f"{word} in the final stage: {runs}"
    build = " ".join(args for word, args in stages(PARSED)[0] if word == "RUN")
    assert "--no-index" in build, "the wheelhouse only"
    assert "--no-cache-dir" in build, "no pip cache kept"
    assert "pip uninstall" in build, "pip leaves the environment"
    assert "pip setuptools" in build


def test_writable_paths_are_declared_volumes_and_python_writes_no_bytecode() -> None:
    (volumes,) = final("VOLUME")
    assert set(json.loads(volumes)) == {"/var/lib/aiorch", "/tmp"}
    env = " ".join(final("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_the_recipe_says_why_one_image() -> None:
    header = DOCKERFILE.read_text().split("ARG PYTHON_IMAGE")[0]
    assert "ONE image" in header
    assert "Why one image" in header


def test_the_wheelhouse_leaves_out_the_local_model_and_the_dev_tools() -> None:
    script = (CONTAINERS / "wheelhouse.sh").read_text()
    command = script[script.index("pip wheel") :]
    assert "[" not in command.split("\n\n")[0], "no extras (local-model, testing) in the wheelhouse"
    assert '-c "$ROOT/constraints.txt"' in command


# --- the entrypoint and the health check, driven directly ------------------------------


def test_the_entrypoint_reads_secret_files_named_as_variables_only(tmp_path: Path) -> None:
    entrypoint = load(CONTAINERS / "image" / "entrypoint.py")
    (tmp_path / "PGPASSWORD").write_text("s3cret\n")
    (tmp_path / "AIORCH_METRICS_TOKEN").write_text("a-token-of-sixteen+")
    (tmp_path / "model-seal-key.json").write_text("{}")
    assert entrypoint.secrets_from(tmp_path) == {
        "PGPASSWORD": "s3cret",
        "AIORCH_METRICS_TOKEN": "a-token-of-sixteen+",
    }
    assert entrypoint.secrets_from(tmp_path / "missing") == {}


def test_the_entrypoint_refuses_a_variable_set_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    entrypoint = load(CONTAINERS / "image" / "entrypoint.py")
    (tmp_path / "PGPASSWORD").write_text("from-file")
    monkeypatch.setenv("AIORCH_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("PGPASSWORD", "from-env")
    assert entrypoint.main(["true"]) == entrypoint.EXIT_USAGE
    assert "PGPASSWORD" in capsys.readouterr().err
    assert entrypoint.main([]) == entrypoint.EXIT_USAGE


def test_the_health_check_knows_the_service_and_role_from_pid_1() -> None:
    healthcheck = load(CONTAINERS / "image" / "healthcheck.py")
    cmdline = b"/opt/aiorch/bin/python\0/opt/aiorch/bin/aiorch-chat\0worker\0"
    assert healthcheck.what_runs(cmdline) == ("chat", "worker")
    assert healthcheck.what_runs(b"python\0/opt/mailcatcher/mailcatcher.py\0") is None
