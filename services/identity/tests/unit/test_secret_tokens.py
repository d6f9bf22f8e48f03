"""UrlSafeSecretTokens: 256 random URL-safe bits, stored as their SHA-256 digest."""

import base64
import hashlib
import re

from identity.adapters.crypto.secret_tokens import UrlSafeSecretTokens
from identity.application.ports import SecretTokens

tokens = UrlSafeSecretTokens()


def test_it_implements_the_port():
    port: SecretTokens = tokens
    assert port is tokens


def test_a_new_token_is_url_safe_and_carries_at_least_128_random_bits():
    plaintext, _ = tokens.new()

    assert re.fullmatch(r"[A-Za-z0-9_-]+", plaintext)
    assert len(base64.urlsafe_b64decode(plaintext + "=" * (-len(plaintext) % 4))) * 8 >= 128


def test_the_digest_is_the_sha256_of_the_plaintext():
    plaintext, digest = tokens.new()

    assert digest == hashlib.sha256(plaintext.encode()).digest() == tokens.digest(plaintext)


def test_new_tokens_never_repeat():
    assert len({tokens.new().plaintext for _ in range(1000)}) == 1000


def test_the_digest_of_a_presented_token_finds_the_stored_one():
    issued = tokens.new()
    assert tokens.digest(str(issued.plaintext)) == issued.digest
    assert tokens.digest(issued.plaintext + "x") != issued.digest


def test_odd_presented_text_digests_without_raising():
    assert len(tokens.digest("")) == 32
    assert len(tokens.digest("bad \ud800 surrogate")) == 32


def test_the_plaintext_never_shows_in_a_repr():
    issued = tokens.new()
    assert issued.plaintext not in repr(issued)
    assert issued.plaintext not in str(issued)
