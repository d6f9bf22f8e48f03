"""The dead-letter stream: parked messages, kept, listable and replayable.

A parked message keeps its body and CloudEvents headers and gains
``aiorch-dl-*`` headers (consumer, reason, deliveries, original subject and
stream sequence). Replay publishes it back to its original subject under a fresh
``Nats-Msg-Id`` (the original id would be dropped as a duplicate); consumers that
already applied it skip it through their inbox, the one that failed applies it.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.messaging.envelope import MSG_ID
from shared.messaging.streams import DEAD_LETTER

PREFIX = "deadletter"
H_CONSUMER = "aiorch-dl-consumer"
H_REASON = "aiorch-dl-reason"
H_DELIVERIES = "aiorch-dl-deliveries"
H_SUBJECT = "aiorch-dl-subject"
H_STREAM_SEQ = "aiorch-dl-stream-seq"


def dead_letter_subject(consumer: str) -> str:
    return f"{PREFIX}.{consumer}"


async def park(js: JetStreamContext, msg: Msg, *, consumer: str, reason: str, deliveries: int) -> None:
    headers = dict(msg.headers or {})
    original_id = headers.get(MSG_ID) or headers.get("ce-id") or ""
    stream_seq = msg.metadata.sequence.stream
    headers.update(
        {
            H_CONSUMER: consumer,
            H_REASON: reason.replace("\r", " ").replace("\n", " ")[:1000],
            H_DELIVERIES: str(deliveries),
            H_SUBJECT: msg.subject,
            H_STREAM_SEQ: str(stream_seq),
            # one dead letter per (consumer, message), even if parking is retried
            MSG_ID: f"dl:{consumer}:{original_id or stream_seq}",
        }
    )
    await js.publish(dead_letter_subject(consumer), msg.data, headers=headers, stream=DEAD_LETTER.name)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    seq: int
    consumer: str
    reason: str
    deliveries: int
    subject: str
    event_id: str | None
    event_type: str | None
    headers: dict[str, str]
    data: bytes


async def list_dead_letters(js: JetStreamContext, *, consumer: str | None = None) -> list[DeadLetter]:
    try:
        info = await js.stream_info(DEAD_LETTER.name)
    except NotFoundError:  # no service has started on this NATS yet: nothing was ever parked
        return []
    found: list[DeadLetter] = []
    if info.state.messages == 0:
        return found
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            raw = await js.get_msg(DEAD_LETTER.name, seq)
        except NotFoundError:  # deleted (replayed) sequences leave holes
            continue
        headers = dict(raw.headers or {})
        letter = DeadLetter(
            seq=seq,
            consumer=headers.get(H_CONSUMER, ""),
            reason=headers.get(H_REASON, ""),
            deliveries=int(headers.get(H_DELIVERIES, "0") or 0),
            subject=headers.get(H_SUBJECT, ""),
            event_id=headers.get("ce-id"),
            event_type=headers.get("ce-type"),
            headers=headers,
            data=raw.data or b"",
        )
        if consumer is None or letter.consumer == consumer:
            found.append(letter)
    return found


async def replay(js: JetStreamContext, letter: DeadLetter) -> None:
    """Publish the original message again, then drop it from the dead-letter stream."""
    headers = {k: v for k, v in letter.headers.items() if not k.startswith(("aiorch-dl-", "Nats-Expected-"))}
    headers[MSG_ID] = f"{letter.event_id or letter.seq}:replay:{letter.seq}"
    await js.publish(letter.subject, letter.data, headers=headers)
    await js.delete_msg(DEAD_LETTER.name, letter.seq)
