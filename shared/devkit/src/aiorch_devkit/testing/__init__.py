"""Test harness: real PostgreSQL and NATS for integration and system tests."""
