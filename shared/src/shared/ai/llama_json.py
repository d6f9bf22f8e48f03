"""JSON answers under llama.cpp's grammar (the ``local`` provider): what goes around it.

llama-cpp-python turns a schema into a GBNF grammar, unrolling ``maxLength`` and ``maxItems``
into nested optional rules: from a ``maxLength`` of about 2000 the grammar parser gives up
and the server process dies (SIGSEGV, measured with llama-cpp-python 0.3.36), so one request
with a generous bound (a prompt's 100 000 characters) would take the local model down. And a
small model tends to fill every string to its bound and every list to its length, so loose
bounds also run the answer past ``max_tokens``, cut mid-string: invalid JSON.

:func:`tightened` caps every free string's ``maxLength`` and every array's ``maxItems``. A
tighter schema accepts less, never more, so what it lets through is still valid under the
caller's schema (which the caller checks anyway). Bounds below a ``minLength``/``minItems``
are raised to it, so a satisfiable schema stays satisfiable.

Its grammar's string character is ``[^"\\]``: a raw newline or tab inside a string passes,
which JSON forbids (upstream llama.cpp has since excluded control characters).
:func:`control_characters_escaped` writes them as JSON escapes while the answer streams,
which is what the model meant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, Final

from shared.kernel.ai import ChatChunk

MAX_STRING_CHARS: Final = 160
"""The longest free string the local model may write (a few sentences, ~40 tokens)."""
MAX_ARRAY_ITEMS: Final = 4
"""The most items of any list the local model may write."""
_SHAPED: Final = ("enum", "const", "pattern", "format")
"""String keywords the converter builds its own rules for: such strings keep their bounds."""


def tightened(schema: Any, *, max_string: int = MAX_STRING_CHARS, max_items: int = MAX_ARRAY_ITEMS) -> Any:
    """A copy of ``schema`` (and of every schema inside it, ``$defs`` too) with every free string's
    ``maxLength`` at most ``max_string`` and every array's ``maxItems`` at most ``max_items``."""
    if isinstance(schema, list):
        return [tightened(item, max_string=max_string, max_items=max_items) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {
        key: tightened(value, max_string=max_string, max_items=max_items) for key, value in schema.items()
    }
    kind = copy.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "string" in kinds and not any(key in copy for key in _SHAPED):
        copy["maxLength"] = _capped(copy.get("maxLength"), max_string, copy.get("minLength"))
    elif "array" in kinds:
        copy["maxItems"] = _capped(copy.get("maxItems"), max_items, copy.get("minItems"))
    return copy


def _capped(bound: Any, cap: int, floor: Any) -> int:
    value = min(bound, cap) if isinstance(bound, int) else cap
    return max(value, floor) if isinstance(floor, int) else value


_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


class _JsonStrings:
    """Where a streamed JSON text is: inside a string or not, after a backslash or not."""

    def __init__(self) -> None:
        self.inside = self.escaped = False

    def escape(self, text: str) -> str:
        out = []
        for char in text:
            if self.inside and not self.escaped and char < " ":
                char = _ESCAPES.get(char) or f"\\u{ord(char):04x}"
            elif self.escaped:
                self.escaped = False
            elif char == "\\" and self.inside:
                self.escaped = True
            elif char == '"':
                self.inside = not self.inside
            out.append(char)
        return "".join(out)


async def control_characters_escaped(chunks: AsyncIterator[ChatChunk]) -> AsyncIterator[ChatChunk]:
    """``chunks`` of a JSON answer with every raw control character inside a string escaped;
    closing this closes ``chunks`` (the upstream request)."""
    strings = _JsonStrings()
    try:
        async for chunk in chunks:
            yield replace(chunk, delta=strings.escape(chunk.delta)) if chunk.delta else chunk
    finally:
        if (close := getattr(chunks, "aclose", None)) is not None:
            await close()
