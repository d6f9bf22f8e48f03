"""Stream replicas on a real three-node NATS cluster (on loopback): created with the copies
the settings ask for, and changed on existing streams at start-up."""

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError, ServiceUnavailableError

from aiorch_devkit.devservers import EmbeddedNats, free_port
from shared.messaging.streams import context_stream, ensure_stream


@pytest.fixture
async def cluster(tmp_path) -> AsyncIterator[Client]:
    """Three JetStream nodes routed to each other; a client on the first once JetStream answers."""
    cluster_ports = [free_port() for _ in range(3)]
    nodes = [
        EmbeddedNats(
            tmp_path / f"node{n}",
            free_port(),
            cluster_port=cluster_ports[n],
            routes=tuple(p for p in cluster_ports if p != cluster_ports[n]),
        )
        for n in range(3)
    ]
    try:
        for node in nodes:
            node.start()
        client = await nats.connect(nodes[0].url)
        await _until_jetstream_answers(client)
        yield client
        await client.close()
    finally:
        for node in nodes:
            node.stop()


async def _until_jetstream_answers(client: Client, timeout: float = 30.0) -> None:
    # The nodes elect a JetStream meta leader a few seconds after they meet, and the leader
    # can place three copies only once it has heard of every peer (on a busy machine, later
    # than it first answers): a stream of three copies made and removed proves both.
    js = client.jetstream()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await js.add_stream(StreamConfig(name="PLACEMENT_PROBE", subjects=["probe.>"], num_replicas=3))
            await js.delete_stream("PLACEMENT_PROBE")
            return
        except (ServiceUnavailableError, BadRequestError, TimeoutError, nats.errors.TimeoutError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.25)


async def test_a_stream_is_kept_on_three_nodes_when_the_settings_ask_for_three(cluster):
    js = cluster.jetstream()

    await ensure_stream(js, context_stream("identity", replicas=3))

    info = await js.stream_info("IDENTITY")
    assert info.config.num_replicas == 3
    assert info.cluster is not None
    assert len(info.cluster.replicas or []) == 2  # besides the leader
    ack = await js.publish("identity.user.registered", b"{}")
    assert ack.stream == "IDENTITY"


async def test_changing_the_replicas_of_an_existing_stream_is_applied_and_keeps_its_messages(cluster):
    js = cluster.jetstream()
    await ensure_stream(js, context_stream("chat", replicas=1))
    await js.publish("chat.message.posted", b"{}")

    await ensure_stream(js, context_stream("chat", replicas=3))

    info = await js.stream_info("CHAT")
    assert info.config.num_replicas == 3
    assert info.state.messages == 1
