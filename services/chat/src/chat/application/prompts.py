"""What a reply's model is asked: the branch's messages up to the reply, and the title request."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Final
from uuid import UUID

from chat.application.attachment_parts import with_attachments
from chat.application.ports.attachments import BlobStore
from chat.application.ports.replicas import ResolvedModel
from chat.domain.attachments import Attachment
from chat.domain.limits import ChatLimits
from chat.domain.messages import Message, path_to
from shared.kernel.ai import ChatMessage, ChatRequest

TITLE_INSTRUCTION: Final = (
    "Write a title of at most six words for the conversation below, in the language of the "
    'user\'s message. Answer with JSON: {"title": "..."}.'
)
TITLE_SCHEMA_NAME: Final = "conversation_title"
"""The title's JSON Schema ``title``: what the offline model's writer is registered under."""
TITLE_SCHEMA: Final = json.dumps(
    {
        "title": TITLE_SCHEMA_NAME,
        "type": "object",
        "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 60}},
        "required": ["title"],
        "additionalProperties": False,
    }
)
TITLE_MAX_TOKENS: Final = 40


def branch(history: Sequence[Message], reply: Message) -> list[Message]:
    """The messages from the root to the one ``reply`` answers (the reply itself excluded);
    replies that ended with no content are left out (a model would read them as empty turns)."""
    path = path_to(history, reply.parent_id)
    return [message for message in path if message.content or message.sender == "user"]


async def reply_request(
    resolved: ResolvedModel,
    path: Sequence[Message],
    limits: ChatLimits,
    *,
    attachments: Mapping[UUID, Sequence[Attachment]] = MappingProxyType({}),
    blobs: BlobStore | None = None,
) -> ChatRequest:
    """The branch as the model takes it: each user message with its attachments as parts the
    model declared it takes (images, audio), text files inlined, a plain note for the others."""
    parameters = resolved.parameters
    if parameters.max_tokens is None or parameters.max_tokens > limits.max_output_tokens:
        parameters = replace(parameters, max_tokens=limits.max_output_tokens)
    messages: list[ChatMessage] = []
    for message in path:
        said = ChatMessage(role=message.sender, content=message.content)
        attached = attachments.get(message.id)
        if attached and blobs is not None:
            said = await with_attachments(said, attached, blobs, resolved.senses)
        messages.append(said)
    return ChatRequest(model=resolved.name, messages=messages, parameters=parameters)


def title_request(resolved: ResolvedModel, history: Sequence[Message], reply: Message) -> ChatRequest:
    """The first exchange, the user's words first, and a structured answer asked for (a model
    answering in prose still gives a usable title: see :func:`title_of`)."""
    exchange = path_to(history, reply.id)[-2:]
    transcript = "\n\n".join(f"{m.sender}: {m.content[:2000]}" for m in exchange)
    return ChatRequest(
        model=resolved.name,
        messages=[
            ChatMessage(role="system", content=TITLE_INSTRUCTION),
            ChatMessage(role="user", content=transcript),
        ],
        parameters=replace(resolved.parameters, max_tokens=TITLE_MAX_TOKENS, json_schema=TITLE_SCHEMA),
    )


def title_of(answer: str) -> str:
    """The title in a model's answer: its JSON ``title``, else the answer's first line."""
    try:
        decoded = json.loads(answer)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("title"), str):
        return str(decoded["title"])
    return answer.strip().splitlines()[0] if answer.strip() else ""
