"""What a reply's model is asked: the branch's messages up to the reply, and the title request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from chat.application.ports.replicas import ResolvedModel
from chat.domain.limits import ChatLimits
from chat.domain.messages import Message, path_to
from shared.kernel.ai import ChatMessage, ChatRequest

TITLE_INSTRUCTION: Final = (
    "Write a title of at most six words for the conversation below. "
    "Answer with the title only: no quotes, no punctuation at the end."
)
TITLE_MAX_TOKENS: Final = 24


def branch_messages(history: Sequence[Message], reply: Message) -> list[ChatMessage]:
    """The messages from the root to the one ``reply`` answers (the reply itself excluded);
    replies that ended with no content are left out (a model would read them as empty turns)."""
    path = path_to(history, reply.parent_id)
    return [
        ChatMessage(role=message.sender, content=message.content)
        for message in path
        if message.content or message.sender == "user"
    ]


def reply_request(
    resolved: ResolvedModel, history: Sequence[Message], reply: Message, limits: ChatLimits
) -> ChatRequest:
    parameters = resolved.parameters
    if parameters.max_tokens is None or parameters.max_tokens > limits.max_output_tokens:
        parameters = replace(parameters, max_tokens=limits.max_output_tokens)
    return ChatRequest(model=resolved.name, messages=branch_messages(history, reply), parameters=parameters)


def title_request(resolved: ResolvedModel, history: Sequence[Message], reply: Message) -> ChatRequest:
    exchange = path_to(history, reply.id)[-2:]
    transcript = "\n\n".join(f"{m.sender}: {m.content[:2000]}" for m in exchange)
    return ChatRequest(
        model=resolved.name,
        messages=[
            ChatMessage(role="system", content=TITLE_INSTRUCTION),
            ChatMessage(role="user", content=transcript),
        ],
        parameters=replace(resolved.parameters, max_tokens=TITLE_MAX_TOKENS, json_schema=None),
    )
