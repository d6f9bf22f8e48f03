from datetime import UTC, datetime

import pytest

from shared.contracts import identity
from shared.kernel.ids import new_id
from shared.messaging.envelope import MalformedEvent, decode, headers_for, outgoing


def event():
    return identity.UserDeleted(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=new_id())


def test_cloudevents_attributes_travel_as_headers_and_msg_id_is_ce_id():
    e = event()
    out = outgoing(e, source="identity")
    headers = headers_for(out)
    assert out.subject == "identity.user.deleted"
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-id"] == headers["Nats-Msg-Id"] == str(e.event_id)
    assert headers["ce-type"] == "aiorch.identity.user.deleted.v1"
    assert headers["ce-source"] == "identity"
    assert headers["ce-subject"] == str(e.user_id)
    assert datetime.fromisoformat(headers["ce-time"]) == e.occurred_at
    assert headers["traceparent"].count("-") == 3


def test_round_trip_through_the_context_decoder():
    e = event()
    out = outgoing(e, source="identity")
    assert decode(headers_for(out), out.payload, identity.decoder) == e


def test_bound_trace_context_is_carried(monkeypatch):
    import structlog

    structlog.contextvars.bind_contextvars(traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    try:
        assert outgoing(event(), source="x").traceparent.startswith("00-aaaa")
    finally:
        structlog.contextvars.unbind_contextvars("traceparent")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: ({**h, "ce-specversion": "0.3"}, b), "ce-specversion"),
        (lambda h, b: (h, b"{not json"), "does not match any contract"),
        (lambda h, b: (h, b'{"type": "aiorch.unknown.v1"}'), "does not match any contract"),
        (
            lambda h, b: ({**h, "ce-type": "aiorch.identity.user.registered.v1"}, b),
            "does not match body type",
        ),
        (lambda h, b: ({**h, "ce-id": "other"}, b), "ce-id"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(mutate, reason):
    out = outgoing(event(), source="identity")
    headers, body = mutate(headers_for(out), out.payload)
    with pytest.raises(MalformedEvent, match=reason):
        decode(headers, body, identity.decoder)
