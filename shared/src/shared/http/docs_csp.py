"""The API docs pages' policy names their one inline script by its hash, not ``'unsafe-inline'``.

Swagger UI's page starts from an inline script that embeds the OpenAPI document; allowing
every inline script would let an injected one run too. The page's HTML is small and served
rarely, so it is held back until complete, each inline ``<script>`` hashed (SHA-256, as CSP
Level 2 names it) and the policy sent with those hashes only. Styles stay ``'unsafe-inline'``:
Swagger UI draws with ``style`` attributes, which no hash can allow.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, Final

from litestar.types import Message, Send

_INLINE_SCRIPT: Final = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
CSP: Final = b"content-security-policy"


def docs_policy(html: bytes) -> bytes:
    """The policy for one docs page: its own files, and exactly its inline scripts."""
    hashes = b" ".join(
        b"'sha256-" + base64.b64encode(hashlib.sha256(script).digest()) + b"'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        b"default-src 'none'; script-src 'self' " + hashes + b"; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        b"form-action 'none'"
    )


def hashing_docs_scripts(send: Send) -> Send:
    """``send`` that holds an HTML answer back until its body is complete, then sends it with
    :func:`docs_policy` in place of any other policy. Other answers pass through."""
    start: dict[str, Any] | None = None
    chunks: list[bytes] = []

    async def send_with_policy(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            headers = message.get("headers", ())
            if any(name == b"content-type" and value.startswith(b"text/html") for name, value in headers):
                start = dict(message)
                return
        elif message["type"] == "http.response.body" and start is not None:
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            html = b"".join(chunks)
            headers = [(n, v) for n, v in start.get("headers", ()) if n != CSP]
            headers.append((CSP, docs_policy(html)))
            start["headers"] = headers
            await send(start)  # type: ignore[arg-type]
            await send({"type": "http.response.body", "body": html, "more_body": False})
            return
        await send(message)

    return send_with_policy  # type: ignore[return-value]


__all__ = ["docs_policy", "hashing_docs_scripts"]
