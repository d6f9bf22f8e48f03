"""The generic JSON Schema instance: valid for the keywords structured-output schemas use."""

import json
from typing import Annotated, Literal

import jsonschema_rs
import msgspec
import pytest

from shared.ai.schema_instance import instance_of, schema_title


class Step(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=20, max_length=40)]
    priority: Literal["low", "medium", "high"]
    estimate: Annotated[int, msgspec.Meta(ge=1, le=8)]
    depends_on: list[int] = []


class Board(msgspec.Struct):
    name: str
    steps: Annotated[list[Step], msgspec.Meta(min_length=3)]
    ratio: Annotated[float, msgspec.Meta(gt=0, lt=1)]
    note: str | None = None
    done: bool = False


SCHEMAS = {
    "msgspec struct with $defs": msgspec.json.schema(Board),
    "plain nested object": {
        "title": "Answer",
        "type": "object",
        "properties": {
            "covered": {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": True},
            "kind": {"const": "final"},
            "score": {"type": ["integer", "null"], "exclusiveMinimum": 5},
            "meta": {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]}]},
            "when": {"type": "string", "format": "date-time"},
            "choice": {"oneOf": [{"type": "null"}, {"type": "boolean"}]},
        },
        "required": ["covered", "kind"],
        "additionalProperties": False,
    },
    "tuple": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "items": False},
}


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_instance_is_valid_against_its_schema(name):
    schema = SCHEMAS[name]

    value = instance_of(schema)

    jsonschema_rs.validate(schema, json.loads(json.dumps(value)))


def test_the_instance_decodes_into_the_struct_the_schema_came_from():
    board = msgspec.convert(instance_of(msgspec.json.schema(Board)), Board)

    assert len(board.steps) == 3
    assert board.steps[0].priority in ("low", "medium", "high")
    assert 20 <= len(board.steps[0].title) <= 40


def test_the_title_is_read_through_the_root_ref():
    assert schema_title(msgspec.json.schema(Board)) == "Board"
    assert schema_title(SCHEMAS["plain nested object"]) == "Answer"
    assert schema_title({"type": "string"}) is None
