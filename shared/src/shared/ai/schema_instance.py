"""A small valid instance of a JSON Schema: what the offline model answers when no writer knows the schema.

Hand-written because the libraries that generate instances (hypothesis-jsonschema and kin) draw
random examples for testing; the offline model needs one deterministic, sensible-looking instance
and no test-only dependency at run time. It covers what structured-output schemas use
(msgspec's and OpenAI's subset): ``$ref`` into ``$defs``/``definitions``, ``type`` (one or
several), ``const``, ``enum``, ``anyOf``/``oneOf``/``allOf``, object ``properties`` and
``required``, array ``items``/``prefixItems`` with ``minItems``/``maxItems``, string
``minLength``/``maxLength``/``format``, number bounds. ``pattern`` is not solved.
"""

from __future__ import annotations

import math
from typing import Any

Schema = dict[str, Any]

_MAX_DEPTH = 12
_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "offline@example.com",
    "uri": "https://example.com/offline",
    "hostname": "example.com",
}


def schema_title(root: Schema) -> str | None:
    """The schema's ``title``, or the title of what its root ``$ref`` points at (msgspec's shape)."""
    title = root.get("title")
    if isinstance(title, str):
        return title
    if "$ref" in root:
        target = _resolve(root, root["$ref"]).get("title")
        return target if isinstance(target, str) else None
    return None


def instance_of(root: Schema) -> Any:
    """A value that satisfies ``root`` (for the keywords listed in the module docstring)."""
    return _Builder(root).build(root, name="value", index=0, depth=0)


def _resolve(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref are supported, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return dict(node)


class _Builder:
    def __init__(self, root: Schema) -> None:
        self._root = root

    def build(self, schema: Schema, *, name: str, index: int, depth: int) -> Any:
        schema = self._flatten(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            options = schema["enum"]
            return options[index % len(options)]
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                # the first non-null branch: a value, not an absence, reads as an answer
                branches = [self._flatten(b) for b in schema[key]]
                chosen = next((b for b in branches if b.get("type") != "null"), branches[0])
                return self.build(chosen, name=name, index=index, depth=depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if kind == "object":
            return self._object(schema, depth=depth)
        if kind == "array":
            return self._array(schema, name=name, depth=depth)
        if kind == "string":
            return self._string(schema, name=name, index=index)
        if kind in ("integer", "number"):
            return self._number(schema, integer=kind == "integer", index=index)
        if kind == "boolean":
            return index % 2 == 0
        return None

    def _flatten(self, schema: Schema) -> Schema:
        """``$ref`` followed and ``allOf`` merged, so the rest reads one plain schema."""
        seen = 0
        while "$ref" in schema and seen < _MAX_DEPTH:
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**_resolve(self._root, schema["$ref"]), **rest}
            seen += 1
        if schema.get("allOf"):
            merged: Schema = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self._flatten(part)
                merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
                merged["required"] = [*merged.get("required", []), *part.get("required", [])]
                merged.update({k: v for k, v in part.items() if k not in ("properties", "required")})
            schema = merged
        return schema

    def _object(self, schema: Schema, *, depth: int) -> dict[str, Any]:
        properties: dict[str, Schema] = schema.get("properties", {})
        required = set(schema.get("required", []))
        # every declared property, so the answer is a full example; only the required ones when deep
        names = [n for n in properties if depth < _MAX_DEPTH or n in required]
        return {n: self.build(properties[n], name=n, index=0, depth=depth + 1) for n in names}

    def _array(self, schema: Schema, *, name: str, depth: int) -> list[Any]:
        prefix: list[Schema] = schema.get("prefixItems", [])
        low = int(schema.get("minItems", 0))
        count = max(low, len(prefix), 0 if depth >= _MAX_DEPTH else 1)
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        items: Schema | bool = schema.get("items", {})
        if prefix and items is False:
            count = min(count, len(prefix))
        item_name = name[:-1] if name.endswith("s") and len(name) > 1 else name
        return [
            self.build(
                prefix[i] if i < len(prefix) else (items if isinstance(items, dict) else {}),
                name=item_name,
                index=i,
                depth=depth + 1,
            )
            for i in range(count)
        ]

    @staticmethod
    def _string(schema: Schema, *, name: str, index: int) -> str:
        text = _FORMATS.get(str(schema.get("format")))
        if text is None:
            words = name.replace("_", " ").replace("-", " ").strip() or "value"
            text = f"offline {words}" + (f" {index + 1}" if index else "")
        low = int(schema.get("minLength", 0))
        if len(text) < low:
            text = (text + " ") * (low // (len(text) + 1) + 1)
            text = text[:low].rstrip().ljust(low, ".")
        if "maxLength" in schema:
            text = text[: int(schema["maxLength"])]
        return text

    @staticmethod
    def _number(schema: Schema, *, integer: bool, index: int) -> int | float:
        low = -math.inf
        high = math.inf
        step = 1 if integer else 0.5
        if "minimum" in schema:
            low = schema["minimum"]
        if "exclusiveMinimum" in schema:
            low = max(low, schema["exclusiveMinimum"] + step)
        if "maximum" in schema:
            high = schema["maximum"]
        if "exclusiveMaximum" in schema:
            high = min(high, schema["exclusiveMaximum"] - step)
        value: float = (low if low != -math.inf else 0) + index
        if integer:
            value = math.ceil(value)
        value = min(value, high) if high != math.inf else value
        return int(value) if integer else float(value)
