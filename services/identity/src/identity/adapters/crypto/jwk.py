"""Ed25519 keys as JWKs (RFC 8037) with RFC 7638 thumbprints as key ids, and PEM loading."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

_PEM_BLOCK: Final = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


def public_jwk(key: Ed25519PublicKey, kid: str) -> dict[str, Any]:
    """The public JWK of ``key``, as published in the JWKS (never the private ``d``)."""
    return {"kty": "OKP", "crv": "Ed25519", "x": _x(key), "kid": kid, "alg": "EdDSA", "use": "sig"}


def thumbprint(key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the required members, sorted, no whitespace."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _x(key)}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def load_private_pem(pem: str) -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key from PEM (PKCS#8, as ``openssl genpkey -algorithm ed25519``).

    Raises:
        ValueError: not such a key. The message never quotes the input.
    """
    try:
        key = load_pem_private_key(_unescape(pem).encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"the signing key must be Ed25519, not {type(key).__name__}")
    return key


def load_public_pems(text: str) -> list[Ed25519PublicKey]:
    """The public halves of every PEM block in ``text`` (public or private keys), in order.

    Raises:
        ValueError: a block is not an Ed25519 key. The message never quotes the input.
    """
    keys: list[Ed25519PublicKey] = []
    for number, match in enumerate(_PEM_BLOCK.finditer(_unescape(text)), start=1):
        block = match.group(0)
        if "PRIVATE KEY" in match.group(1):
            keys.append(load_private_pem(block).public_key())
            continue
        try:
            key = load_pem_public_key(block.encode())
        except ValueError:
            raise ValueError(f"PEM block {number} is not a public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"PEM block {number} is not an Ed25519 key")
        keys.append(key)
    return keys


def _x(key: Ed25519PublicKey) -> str:
    return _b64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unescape(pem: str) -> str:
    # .env files and some orchestrators deliver a multi-line variable with literal "\n"s.
    return pem.replace("\\n", "\n") if "\n" not in pem.strip() else pem
