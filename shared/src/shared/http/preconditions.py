"""Optimistic concurrency over HTTP: a version as a strong ``ETag``, checked with ``If-Match``.

A contended resource (a task on a board, a prompt) carries an integer version that grows
by one on every write. Reads answer ``ETag: "<version>"``; a write that sends
``If-Match: "<version>"`` goes through only if the resource is still at that version, and
is otherwise refused with 412 and the current state, so the client can merge and retry.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from litestar.openapi.spec import OpenAPIType
from litestar.params import HeaderParameter

from shared.kernel.errors import InvalidInput, PreconditionFailed

_ONE_STRONG_TAG: Final = re.compile(r'^[ \t]*"([0-9]{1,18})"[ \t]*$')

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        max_length=64,
        # What expected_version reads: one strong tag as ETag gives it, or "*" (any version); the
        # same in Python's and ECMA's regex dialects (no \s, no \d: they differ beyond ASCII).
        pattern=r'^[ \t]*("[0-9]{1,18}"|\*)[ \t]*$',
        # A header is a string or absent, never null (Litestar documents `str | None` as one of
        # string or null, and a fuzzer then sends the text "null").
        schema_extra={"oneOf": None, "type": OpenAPIType.STRING},
        description=(
            'The `ETag` of the version the change is based on (`"3"`); a stale one is a 412 with the '
            "current state. Without it (or with `*`) the change applies to whatever version is current."
        ),
    ),
]
"""A handler parameter: ``if_match: IfMatch``."""


def etag(version: int) -> str:
    """The strong entity tag of ``version``: what ``ETag`` says and ``If-Match`` repeats."""
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names, ``None`` without one (or ``*``: any version).

    Raises:
        InvalidInput: not a single strong entity tag this service issued (a weak ``W/`` tag
            never matches for a write, RFC 9110 §13.1.1).
    """
    if if_match is None or if_match.strip() == "*":
        return None
    matched = _ONE_STRONG_TAG.match(if_match)
    if matched is None:
        raise InvalidInput('If-Match must be one entity tag as ETag gives it, such as "3"')
    return int(matched.group(1))


def check_version(current: int, expected: int | None, what: str) -> None:
    """Refuses a write based on a version that is no longer ``current``.

    Raises:
        PreconditionFailed: ``expected`` is set and differs from ``current``.
    """
    if expected is not None and expected != current:
        raise PreconditionFailed(f"{what} is at version {current}, not {expected}: reload it and retry")
