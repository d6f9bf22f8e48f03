"""orchestrator's side of the AI model adapters (the adapters themselves are ``shared.ai``)."""
