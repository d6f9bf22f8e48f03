"""Event publishing (transactional outbox + relay) and consuming (idempotent inbox)."""
