"""Cryptography: argon2id password hashing, Ed25519 signing keys and JWKs, JWT access tokens, secrets."""
