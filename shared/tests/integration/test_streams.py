"""JetStream provisioning is idempotent and converges on the configured limits."""

from dataclasses import replace

from nats.js.api import StorageType

from shared.messaging.streams import DAY, context_stream, ensure_stream


async def test_stream_is_created_with_file_storage_limits_and_a_duplicate_window(nats_client):
    js = nats_client.jetstream()
    await ensure_stream(js, context_stream("chat"))
    config = (await js.stream_info("CHAT")).config
    assert config.subjects == ["chat.>"]
    assert config.storage == StorageType.FILE
    assert config.duplicate_window == 120
    assert config.max_age == 30 * DAY
    assert config.max_bytes == 1024**3


async def test_ensuring_twice_keeps_the_messages_and_a_changed_limit_is_applied(nats_client):
    js = nats_client.jetstream()
    spec = context_stream("orchestrator")
    await ensure_stream(js, spec)
    await js.publish("orchestrator.project.created", b"{}")
    await ensure_stream(js, spec)
    assert (await js.stream_info("ORCHESTRATOR")).state.messages == 1

    await ensure_stream(js, replace(spec, max_age_s=7 * DAY, duplicate_window_s=300))
    info = await js.stream_info("ORCHESTRATOR")
    assert info.config.max_age == 7 * DAY
    assert info.config.duplicate_window == 300
    assert info.state.messages == 1
