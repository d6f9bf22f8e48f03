"""Typed settings from the environment, validated once at start-up.

Each service declares a ``msgspec.Struct`` of its settings; :func:`load_settings`
reads one environment variable per field (``PREFIX_FIELD_NAME``, with optional
shared fallbacks such as ``DATABASE_URL``), lets msgspec convert and validate the
strings (``"8001"`` → ``int``, ``"true"`` → ``bool``), and turns a failure into
an error that names the variable. msgspec already does the parsing; this module
only maps field names to variable names, so no extra settings library is needed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

import msgspec

T = TypeVar("T", bound=msgspec.Struct)

_FIELD_IN_MESSAGE = re.compile(r"`\$\.(\w+)`|required field `(\w+)`")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


def env_name(prefix: str, field: str) -> str:
    return f"{prefix}{field.upper()}"


def load_settings(
    cls: type[T],
    *,
    prefix: str,
    environ: Mapping[str, str] | None = None,
    fallbacks: Mapping[str, Sequence[str]] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> T:
    """Build ``cls`` from ``environ``; fields without a variable keep their defaults.

    Args:
        cls: the settings Struct.
        prefix: e.g. ``"IDENTITY_"``: field ``database_url`` reads ``IDENTITY_DATABASE_URL``.
        environ: defaults to ``os.environ``.
        fallbacks: field → further variable names tried in order (``{"nats_url": ["NATS_URL"]}``).
        defaults: field → value used when no variable sets it, for defaults known only at
            run time (a service's schema is named after the service).
    """
    env = os.environ if environ is None else environ
    fallbacks = fallbacks or {}
    raw: dict[str, str] = dict(defaults or {})
    source: dict[str, str] = {}
    for field in msgspec.structs.fields(cls):
        candidates = [env_name(prefix, field.name), *fallbacks.get(field.name, ())]
        source[field.name] = " or ".join(candidates)
        for name in candidates:
            value = env.get(name)
            if value is not None and value != "":
                raw[field.name] = value
                source[field.name] = name
                break
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _FIELD_IN_MESSAGE.search(message)
        field_name = next((g for g in match.groups() if g), None) if match else None
        if field_name is None:
            raise SettingsError(f"invalid settings: {message}") from None
        variable = source.get(field_name, env_name(prefix, field_name))
        if "missing required field" in message:
            raise SettingsError(f"{variable} is required but not set") from None
        detail = message.split(" - at ")[0]
        raise SettingsError(f"{variable} is invalid: {detail}") from None
