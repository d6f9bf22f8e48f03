"""Response headers every answer carries, so a browser never caches, sniffs, frames or leaks it.

- ``Cache-Control: no-store`` on everything under ``/api/``: those answers carry personal data
  or tokens. A route that sets its own ``Cache-Control`` keeps it (that is how it opts out).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, ``X-Frame-Options:
  DENY`` on every answer.
- ``Content-Security-Policy``: nothing may load and no page may frame it (JSON needs nothing).
  A page that sets its own policy keeps it; the API docs pages under ``/schema`` get theirs
  from :mod:`shared.http.docs_csp` (their own files, their inline script by its hash).
- ``Strict-Transport-Security`` when TLS terminates in front (the ``tls_terminated`` setting):
  the service itself only speaks plain HTTP, so it cannot tell by itself.
"""

from __future__ import annotations

from typing import Final

ALWAYS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
NO_STORE: Final = (b"cache-control", b"no-store")
STRICT_CSP: Final = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS: Final = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
DOCS_PREFIX: Final = "/schema"


def add_security_headers(headers: list[tuple[bytes, bytes]], path: str, *, hsts: bool) -> None:
    """Appends to a response's raw ASGI ``headers`` what it lacks of the above, in place."""
    has_cache_control = has_csp = False
    for name, _ in headers:
        if name == b"cache-control":
            has_cache_control = True
        elif name == b"content-security-policy":
            has_csp = True
    headers.extend(ALWAYS)
    if not has_cache_control and path.startswith("/api/"):
        headers.append(NO_STORE)
    if not has_csp:
        headers.append((b"content-security-policy", STRICT_CSP))
    if hsts:
        headers.append(HSTS)


__all__ = ["add_security_headers"]
