"""The offline model's conversation title: the user's first words, as a person would title it.

Registered under the title schema's name, so the built-in model answers the title request
(``chat.application.prompts.title_request``) with a valid, useful instance instead of an echo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

from chat.application.prompts import TITLE_SCHEMA_NAME
from shared.ai.offline import AnswerWriter
from shared.kernel.ai import ChatRequest

WORDS: Final = 6
_USER_LINE = re.compile(r"^user: (.*)$", re.M)


def conversation_title(request: ChatRequest) -> str:
    transcript = request.messages[-1].content if request.messages else ""
    said = _USER_LINE.search(transcript)
    words = re.findall(r"[\w'\u2019-]+", said.group(1) if said else transcript)[:WORDS]
    title = " ".join(words).strip() or "New conversation"
    return json.dumps({"title": (title[0].upper() + title[1:])[:60]})


WRITERS: Final[Mapping[str, AnswerWriter]] = {TITLE_SCHEMA_NAME: conversation_title}
