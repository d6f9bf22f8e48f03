"""AI models: chat's model catalog over its replica of orchestrator's registry."""
