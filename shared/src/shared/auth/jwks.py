"""The identity service's public signing keys, fetched from its JWKS URL and cached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt import PyJWK, PyJWTError

_log = structlog.get_logger("auth.jwks")

# RFC 8037 names the algorithm "EdDSA"; RFC 9864 adds the fully specified "Ed25519".
_ED25519_ALGS = frozenset({"EdDSA", "Ed25519"})


class JwksFetchError(Exception):
    """The JWKS could not be fetched, or it held no usable Ed25519 key."""


class _JwksDocument(msgspec.Struct):
    keys: list[Any]


class JwksKeySet:
    """Ed25519 verification keys by ``kid``, read from a JWKS URL.

    Rules:
    - keys are cached for ``ttl`` seconds; a lookup after that refreshes them first;
    - a ``kid`` not in a fresh cache triggers a refetch (the signer rotated its key),
      at most once per ``min_refetch_interval``, so tokens with made-up key ids cannot
      turn every request into a call to identity;
    - concurrent lookups that need a fetch share a single request;
    - a failed fetch keeps serving the keys already held and is not retried before
      ``min_refetch_interval``; only when no key was ever fetched does a lookup raise
      :class:`JwksFetchError`, retried after the shorter ``cold_retry_interval`` so a
      service started before identity recovers fast;
    - only public OKP/Ed25519 signing keys are used; any other entry is ignored.

    The ``httpx.AsyncClient`` is injected and owned by the caller.
    """

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        ttl: float = 300.0,
        min_refetch_interval: float = 30.0,
        cold_retry_interval: float = 1.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._client = client
        self._ttl = ttl
        self._min_refetch_interval = min_refetch_interval
        self._cold_retry_interval = cold_retry_interval
        self._timeout = timeout
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._last_demand: float | None = None
        self._last_error: str | None = None
        self._attempts = 0
        self._lock = asyncio.Lock()

    @property
    def kids(self) -> frozenset[str]:
        """The key ids currently held."""
        return frozenset(self._keys)

    async def get(self, kid: str) -> PyJWK | None:
        """The key for ``kid``, or ``None`` if the signer does not publish it.

        Raises:
            JwksFetchError: no key was ever fetched and the JWKS cannot be read now.
        """
        stale = self._is_stale()
        key = self._keys.get(kid)
        if key is not None and not stale:
            return key
        # A fresh set without the kid means a rotation we have not seen: a refetch "on demand".
        await self._refresh_if_due(on_demand=not stale)
        if not self._keys:
            raise JwksFetchError(f"no signing keys available from {self._url}: {self._last_error}")
        return self._keys.get(kid)

    async def refresh(self) -> None:
        """Fetch the JWKS now, ignoring the rate limit (e.g. to warm up at start-up).

        Raises:
            JwksFetchError: the fetch failed; the keys already held are kept.
        """
        async with self._lock:
            await self._fetch_and_store()

    def _is_stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._ttl

    def _may_fetch(self, *, on_demand: bool) -> bool:
        now = self._clock()
        if self._failed_at is not None:
            backoff = self._min_refetch_interval if self._keys else self._cold_retry_interval
            if now - self._failed_at < backoff:
                return False
        if on_demand and self._last_demand is not None:
            return now - self._last_demand >= self._min_refetch_interval
        return True

    async def _refresh_if_due(self, *, on_demand: bool) -> None:
        seen = self._attempts
        async with self._lock:
            if self._attempts != seen:
                return  # a fetch completed while we waited for the lock: use its outcome
            if not self._may_fetch(on_demand=on_demand):
                return
            started = self._clock()
            try:
                await self._fetch_and_store()
            except JwksFetchError as exc:
                _log.warning("jwks refresh failed", url=self._url, error=str(exc), kept=len(self._keys))
            if on_demand:
                self._last_demand = started

    async def _fetch_and_store(self) -> None:
        started = self._clock()
        try:
            keys = await self._fetch()
        except JwksFetchError as exc:
            self._failed_at, self._last_error = started, str(exc)
            self._attempts += 1
            raise
        # Only completed attempts count: after a cancelled fetch the waiters fetch themselves.
        self._keys, self._fetched_at, self._failed_at = keys, started, None
        self._attempts += 1
        _log.info("jwks fetched", url=self._url, kids=sorted(keys))

    async def _fetch(self) -> dict[str, PyJWK]:
        try:
            response = await self._client.get(
                self._url, headers={"Accept": "application/json"}, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise JwksFetchError(f"GET {self._url} failed: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise JwksFetchError(f"GET {self._url} answered HTTP {response.status_code}")
        try:
            document = msgspec.json.decode(response.content, type=_JwksDocument)
        except msgspec.DecodeError as exc:
            raise JwksFetchError(f"GET {self._url} returned no JWKS document: {exc}") from exc
        keys: dict[str, PyJWK] = {}
        for entry in document.keys:
            usable = _ed25519_key(entry)
            if usable is not None:
                keys.setdefault(*usable)
        if not keys:
            raise JwksFetchError(f"the JWKS at {self._url} holds no usable Ed25519 key")
        return keys


def _ed25519_key(jwk: Any) -> tuple[str, PyJWK] | None:
    if not isinstance(jwk, dict):
        return None
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        return None
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    if jwk.get("alg", "EdDSA") not in _ED25519_ALGS or jwk.get("use", "sig") != "sig":
        return None
    if "d" in jwk:
        # A private key published by mistake: never trust a set that leaks one.
        _log.error("jwks entry contains private key material; ignored", kid=kid)
        return None
    try:
        key = PyJWK(jwk, algorithm="EdDSA")
    except PyJWTError:
        return None
    if not isinstance(key.key, Ed25519PublicKey):
        return None
    return kid, key
