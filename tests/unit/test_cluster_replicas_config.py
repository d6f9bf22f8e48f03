"""AIORCH_REPLICAS: the local cluster's copies of every API and worker, their names and ports."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "local"))

from cluster_config import ConfigError, load_config, port_variable  # deploy/local holds scripts


def test_one_replica_keeps_the_names_and_ports_a_cluster_always_had():
    config = load_config({})

    assert config.replicas == 1
    assert [name for name, *_ in config.service_processes()] == [
        "identity-api",
        "identity-worker",
        "chat-api",
        "chat-worker",
        "orchestrator-api",
        "orchestrator-worker",
    ]
    assert config.ports_to_bind()["chat-api"] == 8002
    assert config.ports_to_bind()["chat-worker"] == 8102


def test_each_replica_gets_its_own_numbered_processes_and_ports():
    config = load_config({"AIORCH_REPLICAS": "3", "AIORCH_CHAT_PORT": "9002"})
    ports = config.ports_to_bind()

    assert [ports[f"chat-api{suffix}"] for suffix in ("", "-2", "-3")] == [9002, 9012, 9022]
    assert [ports[f"chat-worker{suffix}"] for suffix in ("", "-2", "-3")] == [9102, 9112, 9122]
    assert len(set(ports.values())) == len(ports)
    assert port_variable("chat-worker-3") == "AIORCH_CHAT_PORT"


@pytest.mark.parametrize("value", ["0", "10", "two", "-1", "1.5"])
def test_a_replica_count_outside_one_to_nine_is_refused_naming_the_variable(value):
    with pytest.raises(ConfigError, match="AIORCH_REPLICAS"):
        load_config({"AIORCH_REPLICAS": value})


def test_replica_ports_that_would_collide_are_refused():
    # identity's second copy would land on chat's port
    with pytest.raises(ConfigError, match="same port"):
        load_config({"AIORCH_REPLICAS": "2", "AIORCH_IDENTITY_PORT": "9000", "AIORCH_CHAT_PORT": "9010"})
