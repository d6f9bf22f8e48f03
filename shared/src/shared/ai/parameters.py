"""Helpers every HTTP adapter shares: a model's default parameters under a request's, usage estimates."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any

from shared.kernel.ai import ChatMessage, ModelRequestRejected, Parameters, Usage

_NAME = re.compile(r"[^a-zA-Z0-9_-]+")


def merged(request: Parameters, defaults: Parameters) -> Parameters:
    """The request's parameters, each unset one (``None`` or empty) taken from the model's defaults."""
    chosen = {}
    for f in dataclasses.fields(Parameters):
        value = getattr(request, f.name)
        chosen[f.name] = value if value not in (None, ()) else getattr(defaults, f.name)
    return Parameters(**chosen)


def schema_of(parameters: Parameters) -> dict[str, Any] | None:
    """The requested JSON schema as an object, or ``None`` for a plain-text answer."""
    if parameters.json_schema is None:
        return None
    try:
        schema = json.loads(parameters.json_schema)
    except ValueError as exc:
        raise ModelRequestRejected(f"the response JSON schema is not valid JSON: {exc}") from exc
    if not isinstance(schema, dict):
        raise ModelRequestRejected("the response JSON schema must be a JSON object")
    return schema


def schema_name(schema: dict[str, Any]) -> str:
    """A name for the schema as OpenAI wants it (``^[a-zA-Z0-9_-]{1,64}$``): its title, or ``answer``."""
    title = schema.get("title")
    if not isinstance(title, str) and isinstance(schema.get("$ref"), str):
        title = schema["$ref"].rsplit("/", 1)[-1]
    return _NAME.sub("_", title)[:64] if isinstance(title, str) and title else "answer"


def inline_root(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with a root ``$ref`` (msgspec's shape) replaced by what it points at.

    Providers want an object at the root (OpenAI refuses a bare ``$ref``); ``$defs`` stays, so
    the other references still resolve.
    """
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return schema
    defs = schema.get("$defs", {})
    target = defs.get(ref.removeprefix("#/$defs/"))
    if not isinstance(target, dict):
        return schema
    rest = {k: v for k, v in schema.items() if k != "$ref"}
    return {**target, **rest}


def strict_compatible(schema: Any) -> bool:
    """Whether OpenAI's strict structured output accepts the schema: every object closed
    (``additionalProperties: false``) with every property required."""
    if isinstance(schema, list):
        return all(strict_compatible(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    properties = schema.get("properties")
    closed = schema.get("additionalProperties") is False
    if isinstance(properties, dict) and not (closed and set(schema.get("required", [])) == set(properties)):
        return False
    return all(strict_compatible(value) for value in schema.values() if isinstance(value, dict | list))


def estimated_usage(messages: Sequence[ChatMessage], completion_chunks: int) -> Usage:
    """Usage when a provider sent none: ~4 characters a token for the prompt, a token a chunk."""
    characters = sum(len(m.content) for m in messages)
    prompt = max(1, characters // 4) if characters else 0
    return Usage(prompt_tokens=prompt, completion_tokens=completion_chunks)
