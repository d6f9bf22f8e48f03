"""Secrets at rest and in transit between services: AES-256 key rings in files, and AI-model API
keys sealed (AES-256-GCM) for the services that call models (orchestrator seals, chat unseals)."""
