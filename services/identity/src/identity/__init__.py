"""identity: users, credentials, sessions, roles, password resets and signing keys."""

SERVICE = "identity"
__version__ = "0.1.0"
