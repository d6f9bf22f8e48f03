"""The error answers of each operation, documented as what they are: RFC 9457 problem details."""

from __future__ import annotations

from typing import Final

from litestar.openapi.datastructures import ResponseSpec

from shared.http.problems import PROBLEM_JSON, Problem

_MEANINGS: Final = {
    400: "Invalid input (the problem says which); nothing changed.",
    401: "No valid access token or credentials.",
    403: "Not allowed.",
    404: "No such resource (or not yours).",
    409: "Conflicts with the current state.",
    429: "Too many failed attempts; retry after `Retry-After` seconds.",
    502: "The OIDC provider cannot be reached.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for ``statuses``, each a problem-details body."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_MEANINGS[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }
