"""JSON under llama.cpp's grammar: schemas tightened (every bound capped, none loosened, none
unsatisfiable), raw control characters in strings escaped as the answer streams."""

import json

from shared.ai.llama_json import control_characters_escaped, tightened
from shared.kernel.ai import ChatChunk, Usage


def test_long_and_unbounded_strings_and_lists_get_the_caps():
    schema = {
        "type": "object",
        "properties": {
            "content": {"type": "string", "maxLength": 100_000},
            "note": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
            "more": {"type": "array", "items": {"type": "integer"}},
        },
    }

    out = tightened(schema, max_string=100, max_items=3)["properties"]

    assert out["content"] == {"type": "string", "maxLength": 100}
    assert out["note"] == {"type": "string", "maxLength": 100}
    assert out["tags"] == {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 3}
    assert out["more"]["maxItems"] == 3


def test_bounds_already_tighter_stay_and_minimums_win_over_the_caps():
    schema = {
        "type": "object",
        "properties": {
            "short": {"type": "string", "maxLength": 10},
            "long_minimum": {"type": "string", "minLength": 300, "maxLength": 1000},
            "many": {"type": "array", "minItems": 5, "maxItems": 9},
        },
    }

    out = tightened(schema, max_string=100, max_items=3)["properties"]

    assert out["short"]["maxLength"] == 10
    assert out["long_minimum"]["maxLength"] == 300
    assert out["many"]["maxItems"] == 5


def test_schemas_under_defs_and_nullable_strings_are_tightened_too():
    schema = {
        "$defs": {"Task": {"type": "object", "properties": {"details": {"type": "string"}}}},
        "anyOf": [{"type": ["string", "null"], "maxLength": 5000}],
    }

    out = tightened(schema, max_string=100, max_items=3)

    assert out["$defs"]["Task"]["properties"]["details"]["maxLength"] == 100
    assert out["anyOf"][0]["maxLength"] == 100


def test_strings_with_their_own_shape_are_left_alone_and_the_input_is_not_changed():
    schema = {
        "type": "object",
        "properties": {
            "priority": {"type": "string", "enum": ["low", "high"]},
            "id": {"type": "string", "format": "uuid"},
            "code": {"type": "string", "pattern": "^[A-Z]+$"},
            "text": {"type": "string"},
        },
    }

    out = tightened(schema, max_string=100, max_items=3)

    assert out["properties"]["priority"] == {"type": "string", "enum": ["low", "high"]}
    assert out["properties"]["id"] == {"type": "string", "format": "uuid"}
    assert out["properties"]["code"] == {"type": "string", "pattern": "^[A-Z]+$"}
    assert "maxLength" not in schema["properties"]["text"]


async def streamed(*deltas: str) -> list[ChatChunk]:
    async def chunks():
        for delta in deltas:
            yield ChatChunk(delta=delta)
        yield ChatChunk(delta="", finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=2))

    return [chunk async for chunk in control_characters_escaped(chunks())]


async def test_raw_newlines_and_tabs_inside_strings_become_escapes_across_chunk_boundaries():
    chunks = await streamed('{"title": "Mugs', '\n\tShop", "con', 'tent": "a\x01b"}')

    text = "".join(c.delta for c in chunks)
    assert json.loads(text) == {"title": "Mugs\n\tShop", "content": "a\x01b"}
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == Usage(prompt_tokens=1, completion_tokens=2)


async def test_whitespace_between_values_escaped_quotes_and_backslashes_stay_as_they_are():
    text = '{\n  "a": "say \\"hi\\"\\\\",\n  "b": ["x"]\n}'

    chunks = await streamed(*text)  # one character a chunk: a backslash and what it escapes apart

    assert "".join(c.delta for c in chunks) == text


async def test_closing_the_escaped_stream_closes_the_model_stream():
    closed = []

    async def chunks():
        try:
            yield ChatChunk(delta='{"a": "')
            yield ChatChunk(delta="b")
        finally:
            closed.append(True)

    escaped = control_characters_escaped(chunks())
    await anext(escaped)
    await escaped.aclose()

    assert closed == [True]
